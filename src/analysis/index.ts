/** The conversation analyzer livecalls uses today: a trained sentiment model plus intent-model insights, all offline. */
import { buildInsights } from './insights.ts';
import { conversationSentiment } from './sentiment.ts';
import type { ConversationAnalyzer } from './types.ts';

export type {
  CallContext,
  CallSentiment,
  CallState,
  ConversationAnalyzer,
  Insights,
  Role,
  SentimentContext,
  SentimentLabel,
  SentimentResult,
  SentimentSignal,
  TopicDetail,
  Turn,
} from './types.ts';

export function createAnalyzer(): ConversationAnalyzer {
  return {
    sentiment: (turns, context) => conversationSentiment(turns, context),
    insights: (turns, context) => buildInsights(turns, conversationSentiment(turns, context), context),
  };
}
