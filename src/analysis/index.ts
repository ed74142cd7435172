/** The conversation analyzer livecalls uses today: VADER sentiment plus rule-based insights, all offline. */
import { buildInsights } from './insights.ts';
import { conversationSentiment } from './sentiment.ts';
import type { ConversationAnalyzer } from './types.ts';

export type { ConversationAnalyzer, Insights, Role, SentimentLabel, SentimentResult, Turn } from './types.ts';

export function createAnalyzer(): ConversationAnalyzer {
  return {
    sentiment: (turns) => conversationSentiment(turns),
    insights: (turns) => buildInsights(turns, conversationSentiment(turns)),
  };
}
