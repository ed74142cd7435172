export type Role = 'agent' | 'customer';
export interface Turn {
  role: Role;
  content: string;
  at: number /* epoch ms */;
}
export type SentimentLabel = 'positive' | 'neutral' | 'negative';
export interface SentimentResult {
  label: SentimentLabel;
  score: number /* -1..1 */;
}
/** A conversation signal that lowered the call's sentiment (see docs/sentiment.md). */
export type SentimentSignal =
  'agent_cannot_help' | 'repeated_request' | 'correction' | 'escalation' | 'gave_up' | 'transfer_requested' | 'long_wait' | 'declining';
export interface CallSentiment extends SentimentResult {
  /** The customer's per-turn scores (-1..1, 2 decimals), oldest first, the last 10 at most. */
  trend: number[];
  /** Signals that fired, in a fixed order; empty when none did. */
  signals: SentimentSignal[];
}
/** What a call knows beyond its transcript. */
export interface SentimentContext {
  /** A transfer to a person was requested. */
  transferRequested?: boolean;
}
/** One topic of the call and the evidence for it. */
export interface TopicDetail {
  topic: string;
  /** The model intent that named the topic ("banking77:lost_or_stolen_card"), or "rule:..." for rule topics. */
  intent: string;
  /** 0..1: the model's probability for that intent, in its most confident sentence. */
  confidence: number;
}
/** What has happened in the call so far. */
export type CallState = 'resolved' | 'unresolved' | 'transferred' | 'waiting' | 'in progress';
/** Optional facts about the call beyond its turns, for the summary and the call state. */
export interface CallContext extends SentimentContext {
  customerName?: string;
  customerPhone?: string;
}
export interface Insights {
  sentiment: SentimentLabel;
  /** Topic names, most relevant first (the same order as topicDetails). */
  topics: string[];
  summary: string;
  suggestions: string[];
  topicDetails: TopicDetail[];
  state: CallState;
}
/** What livecalls needs from a conversation model; a stronger model can implement this later. Pure: no I/O, deterministic for the same turns. */
export interface ConversationAnalyzer {
  /** Sentiment of the conversation so far, turns oldest first. */
  sentiment(turns: readonly Turn[], context?: SentimentContext): CallSentiment;
  insights(turns: readonly Turn[], context?: CallContext): Insights;
}
