/** The conversation analyzer livecalls uses today: a trained sentiment model plus rule-based insights, all offline. */
import { buildInsights } from './insights.ts';
import { conversationSentiment } from './sentiment.ts';
import type { ConversationAnalyzer } from './types.ts';

export type {
  CallSentiment,
  ConversationAnalyzer,
  Insights,
  Role,
  SentimentContext,
  SentimentLabel,
  SentimentResult,
  SentimentSignal,
  Turn,
} from './types.ts';

export function createAnalyzer(): ConversationAnalyzer {
  return {
    sentiment: (turns, context) => conversationSentiment(turns, context),
    insights: (turns) => buildInsights(turns, conversationSentiment(turns)),
  };
}
