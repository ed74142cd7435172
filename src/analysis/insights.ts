/**
 * Call insights for the supervisor: what the call is about (topics from the intent model), what has happened
 * (call-state.ts), how the customer feels now (sentiment.ts) and what the agent should do next (suggestions.ts).
 *
 * Why only customer sentences go to the intent model: the agent's script ("is there anything else I can help
 * with?") says nothing about why the customer called. Each sentence is classified on its own, so a turn that
 * greets, then asks, gets the ask's intent; fillers ("okay", "thanks") are skipped before the model. Topics
 * rank by the summed confidence of the sentences that name them, so a topic the customer dwells on, or states
 * clearly, comes first; an intent the model is not sure of (out of scope) names no topic at all.
 */
import { asksForHuman, callState, complains, isFiller } from './call-state.ts';
import { intentModel } from './intent/model.ts';
import { intentWords, predictTopic } from './intent/topics.ts';
import { COMPLAINT, type CallTopic, HUMAN_REQUEST, suggest } from './suggestions.ts';
import { conversationSentiment } from './sentiment.ts';
import type { CallContext, CallState, Insights, SentimentLabel, SentimentResult, TopicDetail, Turn } from './types.ts';

export { COMPLAINT, HUMAN_REQUEST } from './suggestions.ts';

/** Intent topics shown at most; a call is rarely about more than three things. */
export const MAX_INTENT_TOPICS = 3;
export const MAX_SUMMARY = 240;
/** A second or third topic must be this sure: a stray low-confidence topic next to a clear one is noise. */
export const MIN_SECONDARY_CONFIDENCE = 0.5;
/** Rule-derived topics carry this intent id in topicDetails, so a reader can tell them from model intents. */
export const RULE_INTENT = { [HUMAN_REQUEST]: 'rule:asks_for_human', [COMPLAINT]: 'rule:complaint' } as const;

// An opening "hi," or "yeah so" is not part of the request, and the model has seen few requests that start so.
const LEAD_IN = /^(?:(?:hi|hello|hey|yes|yeah|yep|ok(?:ay)?|so|well|um+|uh+|right|good (?:morning|afternoon|evening))\b[\s,.!-]*)+/i;

interface Sentence {
  text: string;
  turn: number;
}

function customerSentences(turns: readonly Turn[]): Sentence[] {
  return turns.flatMap((t, turn) =>
    t.role !== 'customer'
      ? []
      : t.content
          .split(/(?<=[.!?])\s+|\n+/)
          .map((s) => s.trim().replace(/\s+/g, ' '))
          .filter((s) => /[a-z0-9]/i.test(s) && !isFiller(s))
          .map((s) => s.replace(LEAD_IN, '') || s)
          .map((text) => ({ text, turn })),
  );
}

interface TopicEvidence {
  topic: CallTopic;
  intent: string;
  confidence: number;
  weight: number;
  first: number;
  quote: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Topics of the call, most relevant first, each with the intent that named it and the model's confidence. */
export function extractTopics(turns: readonly Turn[], sentiment?: SentimentResult): TopicDetail[] {
  return topicEvidence(turns, sentiment).map(({ topic, intent, confidence }) => ({ topic, intent, confidence: round2(confidence) }));
}

function topicEvidence(turns: readonly Turn[], sentiment?: SentimentResult): TopicEvidence[] {
  const model = intentModel();
  const byTopic = new Map<CallTopic, TopicEvidence>();
  customerSentences(turns).forEach(({ text }, index) => {
    const prediction = predictTopic(model, text);
    if (prediction === null) return;
    const { topic, intent, confidence } = prediction;
    const seen = byTopic.get(topic);
    if (seen === undefined) byTopic.set(topic, { topic, intent, confidence, weight: confidence, first: index, quote: text });
    else {
      seen.weight += confidence;
      if (confidence > seen.confidence) Object.assign(seen, { intent, confidence, quote: text });
    }
  });
  const ranked = [...byTopic.values()]
    .sort((a, b) => b.weight - a.weight || a.first - b.first)
    .filter((e, i) => i === 0 || e.confidence >= MIN_SECONDARY_CONFIDENCE)
    .slice(0, MAX_INTENT_TOPICS);

  const customer = turns.filter((t) => t.role === 'customer');
  const human = customer.find((t) => asksForHuman(t.content));
  const explicitComplaint = customer.find((t) => complains(t.content));
  const out: TopicEvidence[] = [];
  if (human !== undefined) {
    out.push({ topic: HUMAN_REQUEST, intent: RULE_INTENT[HUMAN_REQUEST], confidence: 1, weight: 1, first: -1, quote: human.content });
  }
  out.push(...ranked);
  // A complaint is an explicit one, or a customer whose mood is negative: either is what a supervisor means by it.
  if (explicitComplaint !== undefined || sentiment?.label === 'negative') {
    const confidence = explicitComplaint !== undefined ? 1 : Math.min(1, Math.abs(sentiment?.score ?? 0));
    out.push({ topic: COMPLAINT, intent: RULE_INTENT[COMPLAINT], confidence, weight: confidence, first: -1, quote: '' });
  }
  return out;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

const STATE_TEXT: Record<CallState, string> = {
  resolved: 'Resolved by the agent.',
  unresolved: 'Not resolved: the agent could not help.',
  transferred: 'Being transferred to a human agent.',
  waiting: 'Waiting for the agent to answer.',
  'in progress': 'In progress.',
};

const MOOD_TEXT: Record<SentimentLabel, string> = {
  negative: 'The customer sounds unhappy.',
  neutral: 'The customer sounds calm.',
  positive: 'The customer sounds satisfied.',
};

/** "Call from Ada Lovelace (+44...)", or just "Call" when the caller is not known yet. */
function callFrom(context: CallContext): string {
  const name = context.customerName?.trim() ?? '';
  const phone = context.customerPhone?.trim() ?? '';
  const who = name !== '' && phone !== '' ? `${name} (${phone})` : name || phone;
  return who === '' ? 'Call' : `Call from ${who}`;
}

/** Who called, why (the top intent in words and the customer's own sentence), what has happened, the mood now. */
export function summarize(
  turns: readonly Turn[],
  evidence: readonly TopicEvidence[],
  state: CallState,
  sentiment: SentimentLabel,
  context: CallContext = {},
): string {
  const spoken = turns.filter((t) => /[a-z0-9]/i.test(t.content));
  if (spoken.length === 0) return '';
  const top = evidence.find((e) => e.topic !== HUMAN_REQUEST && e.topic !== COMPLAINT);
  const asked = customerSentences(turns)[0]?.text ?? spoken.find((t) => t.role === 'customer')?.content.trim();
  const tail = ` ${STATE_TEXT[state]} ${asked === undefined ? '' : MOOD_TEXT[sentiment]}`.trimEnd();
  let head: string;
  let quote: string | undefined;
  if (top !== undefined) {
    head = `${callFrom(context)} about ${top.topic} (${intentWords(top.intent)})`;
    quote = top.quote;
  } else if (evidence.some((e) => e.topic === HUMAN_REQUEST)) {
    head = `${callFrom(context)}, asking for a human agent`;
    quote = evidence.find((e) => e.topic === HUMAN_REQUEST)?.quote;
  } else if (asked !== undefined) {
    head = `${callFrom(context)}, no known topic yet`;
    quote = asked;
  } else {
    head = `${callFrom(context)}; the customer has not spoken yet`;
  }
  if (quote === undefined) return truncate(`${head}.${tail}`, MAX_SUMMARY);
  // The quote gives way first: the outcome and the mood must stay readable.
  const room = MAX_SUMMARY - head.length - tail.length - 6;
  const words = quote
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[.!?]+$/, '');
  const said = room >= 12 ? `: "${truncate(words, room)}".` : '.';
  return truncate(`${head}${said}${tail}`, MAX_SUMMARY);
}

export function buildInsights(
  turns: readonly Turn[],
  sentiment: SentimentResult = conversationSentiment(turns),
  context: CallContext = {},
): Insights {
  const spoken = turns.filter((t) => t.content.trim() !== '');
  if (spoken.length === 0) {
    return { sentiment: sentiment.label, topics: [], summary: '', suggestions: [], topicDetails: [], state: 'in progress' };
  }
  const evidence = topicEvidence(turns, sentiment);
  const state = callState(turns, context);
  const topics = evidence.map((e) => e.topic);
  const top = evidence.find((e) => e.topic !== HUMAN_REQUEST && e.topic !== COMPLAINT);
  return {
    sentiment: sentiment.label,
    topics,
    summary: summarize(turns, evidence, state, sentiment.label, context),
    suggestions: suggest({ topics, intent: top?.intent ?? null, state, sentiment: sentiment.label }),
    topicDetails: evidence.map(({ topic, intent, confidence }) => ({ topic, intent, confidence: round2(confidence) })),
    state,
  };
}
