/** The conversation analyzer livecalls uses today: a trained sentiment model plus intent-model insights, all offline. */
import { buildInsights } from './insights.ts';
import { conversationSentiment } from './sentiment.ts';
import type { ConversationAnalyzer, Turn } from './types.ts';

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

/**
 * Characters of a turn the analysis reads: about two minutes of speech. A turn may be longer (an agent reading a
 * document out), but its first part says what it is about, and the analysis runs on the event loop: one tenant's
 * 10,000-character turns must not cost every tenant's requests their latency.
 */
export const ANALYSED_TURN_CHARS = 2_000;
/** Turns the analysis reads: the most recent ones (the live window; see MAX_LIVE_TURNS in domain/call.ts). */
export const ANALYSED_TURNS = 50;

/** The part of a transcript the analysis reads: its last ANALYSED_TURNS turns, each cut to ANALYSED_TURN_CHARS. */
export function analysedPart(turns: readonly Turn[]): readonly Turn[] {
  const recent = turns.length > ANALYSED_TURNS ? turns.slice(-ANALYSED_TURNS) : turns;
  if (recent.every((t) => t.content.length <= ANALYSED_TURN_CHARS)) return recent;
  return recent.map((t) => (t.content.length <= ANALYSED_TURN_CHARS ? t : { ...t, content: t.content.slice(0, ANALYSED_TURN_CHARS) }));
}

export function createAnalyzer(): ConversationAnalyzer {
  return {
    sentiment: (turns, context) => conversationSentiment(analysedPart(turns), context),
    insights: (turns, context) => {
      const part = analysedPart(turns);
      return buildInsights(part, conversationSentiment(part, context), context);
    },
  };
}
