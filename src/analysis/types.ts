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
  'agent_cannot_help' | 'repeated_request' | 'correction' | 'escalation' | 'transfer_requested' | 'long_wait' | 'declining';
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
export interface Insights {
  sentiment: SentimentLabel;
  topics: string[];
  summary: string;
  suggestions: string[];
}
/** What livecalls needs from a conversation model; a stronger model can implement this later. Pure: no I/O, deterministic for the same turns. */
export interface ConversationAnalyzer {
  /** Sentiment of the conversation so far, turns oldest first. */
  sentiment(turns: readonly Turn[], context?: SentimentContext): CallSentiment;
  insights(turns: readonly Turn[]): Insights;
}
