/** The conversation analyzer livecalls uses today: sentiment plus intent-model insights, all offline. */
import { buildInsights } from './insights.ts';
import { conversationSentiment } from './sentiment.ts';
import type { ConversationAnalyzer } from './types.ts';

export type {
  CallContext,
  CallState,
  ConversationAnalyzer,
  Insights,
  Role,
  SentimentLabel,
  SentimentResult,
  TopicDetail,
  Turn,
} from './types.ts';

export function createAnalyzer(): ConversationAnalyzer {
  return {
    sentiment: (turns) => conversationSentiment(turns),
    insights: (turns, context) => buildInsights(turns, conversationSentiment(turns), context),
  };
}
