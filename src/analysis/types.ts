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
export interface Insights {
  sentiment: SentimentLabel;
  topics: string[];
  summary: string;
  suggestions: string[];
}
/** What livecalls needs from a conversation model; a stronger model can implement this later. Pure: no I/O, deterministic for the same turns. */
export interface ConversationAnalyzer {
  /** Sentiment of the conversation so far, turns oldest first. */
  sentiment(turns: readonly Turn[]): SentimentResult;
  insights(turns: readonly Turn[]): Insights;
}
