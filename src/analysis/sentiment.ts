/**
 * Call sentiment: how is this customer doing now? A score -1..1, a label, the customer's per-turn trend and
 * the conversation signals that moved it. The method, and why, in docs/sentiment.md; in short:
 * - Each customer turn is scored by the trained per-turn model (`sentiment-model/`). Agent turns are not
 *   scored for mood (agents are polite by script); they count only through what they say about the outcome.
 * - The mood is a recency-weighted mean of the customer's recent turns in which negative turns weigh more
 *   (a supervisor hears the complaint, not the "okay" after it) and closing pleasantries ("thanks, bye")
 *   weigh little, and nothing once something went wrong: every call ends politely, satisfied or not.
 * - Signals a call centre knows to matter lower the score: the agent unable to help, the customer repeating
 *   or correcting a request, asking for a human or escalating, a transfer request, a long wait, a falling trend.
 * - Neutral is the default. Positive needs the customer to express satisfaction and no failure signal;
 *   one is enough to rule positive out. A call that is a single customer turn gets that turn's label.
 */
import { resolvesCleanly } from './call-state.ts';
import { classifyTurn, type TurnSentiment } from './sentiment-model/model.ts';
import type { CallSentiment, SentimentContext, SentimentLabel, SentimentSignal, Turn } from './types.ts';

export const CUSTOMER_WINDOW = 8;
export const DECAY = 0.7;
/** Weight multipliers of a negative turn and of a pleasantry (acknowledgement, thanks, goodbye) in the mood. */
export const NEGATIVE_WEIGHT = 1.6;
export const PLEASANTRY_WEIGHT = 0.25;
/** Score at or above which a call is positive, at or below which negative. */
export const POSITIVE_THRESHOLD = 0.3;
export const NEGATIVE_THRESHOLD = -0.2;
/** Customer per-turn scores kept in the trend, newest last. */
export const TREND_LENGTH = 10;
/** A gap between turns that reads as a long wait: at least this long, and several times the call's usual gap. */
export const LONG_WAIT_MS = 30_000;

/**
 * How much each signal lowers the score, per occurrence (twice at most); several add up, to MAX_PENALTY.
 * One setback (one "no trains that day", one restated request) leaves a calm call neutral; a second, or
 * a setback on a call that already reads negative, makes it negative. Escalation alone is enough.
 */
export const SIGNAL_PENALTY: Readonly<Record<SentimentSignal, number>> = {
  agent_cannot_help: 0.15,
  repeated_request: 0.2,
  correction: 0.15,
  escalation: 0.4,
  gave_up: 0.35,
  transfer_requested: 0.25,
  long_wait: 0.1,
  declining: 0.1,
};
const MAX_OCCURRENCES = 2;
const MAX_PENALTY = 0.7;

// The agent says the request cannot be met: no availability, cannot do it, does not have the information.
const AGENT_CANNOT_HELP =
  /\b(?:unfortunately|i(?:'| a)m afraid|regret(?:tably)?)\b|\b(?:can ?not|can't|could ?n[o']t|unable to|not able to)\s+(?:help|do|find|book|process|offer|assist|locate|access|change|refund|complete|reserve|make)\b|\bno (?:trains?|rooms?|tables?|availability|results?|flights?|matches|records?|hotels?|restaurants?|taxis?|tickets?|seats?|options?)\b|\b(?:fully booked|not available|unavailable|sold out|out of stock)\b|\bi (?:do not|don't) (?:have|see) (?:that|any|access|information)\b|\bthere (?:are|is) nothing (?:available|i can)\b/i;

// The customer escalates: asks to be put through to a person or a manager, or calls the service out. Asking
// whether the agent is a human is curiosity, not escalation, so "human" alone does not count.
const ESCALATION =
  /\b(?:speak|talk|put me through|transfer me|connect me|get me)\b[^.?!]{0,24}\b(?:human|person|someone|somebody|manager|supervisor|representative|operator)\b|\b(?:real|actual|live) (?:person|human)\b|\b(?:ridiculous|unacceptable|useless|complaint|waste of (?:my )?time|fed up|sick of)\b/i;

// The customer gives up on getting what they called for.
const GAVE_UP =
  /\b(?:never ?mind|forget (?:it|about it)|don't bother|i give up|(?:i'll|i will|i'm going to|i guess i'll|i'll just) (?:try|go|look|ask|call|book) (?:somewhere|someplace|some ?where|elsewhere|another (?:place|company|provider|website)|back later)|(?:go|look|shop) elsewhere|(?:that|this|it)(?:'s| is) (?:no|not) help(?:ful)?|you(?:'re| are) (?:no|not) help(?:ing|ful)?|(?:no|not) (?:any )?help at all|pointless)\b/i;

// The customer says they have waited too long.
const WAITING =
  /\b(?:taking (?:so|too|this) long|(?:been|keep|kept) (?:waiting|on hold)|still waiting|waited (?:for )?(?:ages|\d+|an? (?:hour|while))|on hold for)\b/i;
// The customer is left asking whether anyone is there: a wait on the call when asked twice, and never an upset
// turn by itself (a line can drop for a second).
const DEAD_AIR = /\bare you (?:still )?there\b/i;

// The customer says they are repeating themselves (or asks for the same search again), or says the agent got
// it wrong, misunderstood or is not listening.
const REPEAT_WORDS =
  /\b(?:(?:asking|telling|saying|calling|explaining)(?: you| this| it)? again|(?:can|could|would|will) you(?: please)? (?:check|look|search)(?: it| that| for me)? again|again and again|already (?:told|said|asked|gave)|i (?:just )?told you|(?:second|third|fourth) time|as i said|like i said|i just said|i keep (?:asking|telling|saying))\b/i;
const CORRECTION =
  /^(?:(?:what|huh)[?!.,]+\s+)?(?:no[,.!]?\s+(?:i said|i asked|i meant|i want|i need|that is not|that's not|not)|that(?:'s| is) not what i|i (?:did not|didn't) (?:ask for|say|want) (?:that|this|it)\b|wrong\b)|^(?:what|huh)[?!.,]+\s+i (?:said|asked for)\b|^i said\b[^.?!]*,\s*not\b|\bthat(?:'s| is) (?:not (?:right|correct)|wrong|incorrect)\b|\byou(?:'re| are) not listening\b|\byou (?:do not|don't|did not|didn't) (?:understand|listen)\b|\byou (?:misunderstood|misheard|got (?:it|that|me) wrong)\b|\b(?:that|this|it) (?:makes|made) no sense\b|\b(?:does not|doesn't) make (?:any )?sense\b/i;

// "Thanks, that's all I need", "okay", "sure": how nearly every call goes on and ends, satisfied or not. A turn
// is a pleasantry when it thanks or takes leave without praise of its own, or when, without thanks, goodbyes
// and fillers, at most PLEASANTRY_REST words remain. "Perfect, exactly what I wanted, thanks" keeps its weight.
const CLOSING =
  /\b(?:thanks?|thank you|thankyou|cheers|bye|goodbye|good ?bye|that(?:'s| is|s| will be) (?:all|it|everything)|nothing else|have a (?:nice|good|great|lovely) (?:day|one|evening|night)|appreciate)\b/i;
const PRAISE =
  /\b(?:perfect|exactly what|wonderful|excellent|amazing|fantastic|brilliant|awesome|lovely|superb|outstanding|(?:very|so|really|super|most) helpful|great help|(?:a|such a) great|love|delighted|happy|pleased|impressed|the best)\b/i;
const FILLER = /\b(?:ok(?:ay)?|sure|yes|yeah|yep|alright|all right|right|great|good|fine|no|well|then|and|so|uh|um|hmm|oh)\b/gi;
const PLEASANTRY_REST = 1;

/**
 * A turn that only acknowledges ("sure", "okay", "yes", "no problem", "good", "got it") says how the
 * conversation flows, not how the customer feels: the lexicon-era scorers read these as positive, and a
 * model trained on comments still leans that way. They carry no mood, whatever the model says.
 */
const ACKNOWLEDGEMENT =
  /^(?:(?:ok(?:ay)?|okey|sure|yes|yeah|yep|yup|yes please|alright|all right|right|fine|good|cool|well|no problem|not a problem|no worries|got it|i see|understood|uh[- ]?huh|m+h?m+|hmm+|uh|um|oh|so|and|then)[\s,.!?]*)+$/i;
const NO_MOOD: TurnSentiment = { negative: 0, neutral: 1, positive: 0, score: 0, label: 'neutral' };

/**
 * A customer who says how they feel, badly, or that they have waited too long, is upset whatever else the turn
 * is about: "I'm really frustrated, my card was declined again" reads neutral to a model that learnt card
 * questions as neutral requests. Not when negated ("not angry", "never been disappointed").
 */
const UPSET =
  /(?<!\b(?:not|never|n't|no|wasn't|isn't|aren't|am not|not at all)\s(?:\w+\s)?)\b(?:frustrat\w*|annoy\w*|angry|furious|upset|irritat\w*|disappoint\w*|fed up|sick of|pissed|outrag\w*|livid|infuriat\w*|unacceptable|ridiculous|terrible|horrible|awful|worst|useless|pathetic|hate)\b/i;
const UPSET_FLOOR = -0.5;

/**
 * A caller stating no preference ("I don't care about the price", "it doesn't matter") answers a question;
 * a comment corpus reads "don't care" as annoyance. Short turns only, and never over an upset word.
 */
const NO_PREFERENCE =
  /\b(?:(?:do ?n[o']?t|doesn't|does not) (?:really )?(?:care|mind|matter)|no (?:particular )?preference|any (?:\w+ )?(?:is|are|would be) (?:fine|ok(?:ay)?|good))\b/i;
const NO_PREFERENCE_MAX_WORDS = 12;
/**
 * A caller's own apology for a slip ("sorry, I meant Wednesday", "oops, two people") is not remorse: the turn
 * is judged without it.
 */
const SELF_CORRECTION = /^(?:oh,?\s+)?(?:sorry|oops|whoops|my (?:bad|mistake)|pardon)\b[\s,.!-]*/i;

/** The model's view of a turn, with the overrides above (acknowledgements, no preference and slips carry no mood; explicit upset is negative). */
export function judgeTurn(text: string): TurnSentiment {
  const spoken = plain(text).trim();
  if (ACKNOWLEDGEMENT.test(spoken)) return NO_MOOD;
  const upset = UPSET.test(spoken) || WAITING.test(spoken);
  if (!upset && NO_PREFERENCE.test(spoken) && spoken.split(/\s+/).length <= NO_PREFERENCE_MAX_WORDS) return NO_MOOD;
  const rest = spoken.replace(SELF_CORRECTION, '');
  if (!upset && rest !== spoken && rest !== '') return judgeTurn(rest);
  const model = classifyTurn(text);
  if (model.score > UPSET_FLOOR && (UPSET.test(spoken) || WAITING.test(spoken))) {
    // Negative probability raised to (1 - UPSET_FLOOR) / 2 = 0.75; the rest keeps the model's proportions.
    const negative = Math.max(model.negative, (1 - UPSET_FLOOR) / 2);
    const rest = 1 - negative;
    const share = model.neutral + model.positive || 1;
    const neutral = (rest * model.neutral) / share;
    const positive = (rest * model.positive) / share;
    return { negative, neutral, positive, score: positive - negative, label: 'negative' };
  }
  return model;
}

/**
 * The per-turn model costs a few microseconds, but every new turn rescores the whole window; a text's score
 * never changes, so scores are remembered by text. Bounded (least recently used out first): the windows of
 * many thousands of talking calls, a few MB at most; a text that fell out is simply scored again.
 */
export const SCORE_MEMO_SIZE = 50_000;
const scoreMemo = new Map<string, TurnSentiment>();

/** The per-turn model's sentiment of one utterance (remembered by text). */
export function turnSentiment(text: string): TurnSentiment {
  const known = scoreMemo.get(text);
  if (known !== undefined) {
    scoreMemo.delete(text);
    scoreMemo.set(text, known);
    return known;
  }
  const result = judgeTurn(text);
  scoreMemo.set(text, result);
  if (scoreMemo.size > SCORE_MEMO_SIZE) scoreMemo.delete(scoreMemo.keys().next().value as string);
  return result;
}

/** Score of one utterance, -1..1 (positive minus negative probability); 0 for blank text. */
export function scoreText(text: string): number {
  return text.trim() === '' ? 0 : turnSentiment(text).score;
}

export function labelFor(score: number): SentimentLabel {
  if (score >= POSITIVE_THRESHOLD) return 'positive';
  if (score <= NEGATIVE_THRESHOLD) return 'negative';
  return 'neutral';
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  // "+ 0" turns -0 into 0.
  return Math.round(x * f) / f + 0;
}

function isPleasantry(text: string): boolean {
  if (PRAISE.test(text)) return false;
  if (CLOSING.test(text)) return true;
  return (text.replace(FILLER, ' ').match(/[a-z0-9']+/gi) ?? []).length <= PLEASANTRY_REST;
}

function contentWords(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9]{3,}/g) ?? []);
}

/** Two customer turns that ask for the same thing: most of the words of the shorter one are in the other. */
function sameRequest(a: string, b: string): boolean {
  const wa = contentWords(a);
  const wb = contentWords(b);
  const [small, large] = wa.size <= wb.size ? [wa, wb] : [wb, wa];
  if (small.size < 3) return false;
  let shared = 0;
  for (const w of small) if (large.has(w)) shared++;
  return shared / small.size >= 0.7;
}

function hasLongWait(turns: readonly Turn[]): boolean {
  const gaps: number[] = [];
  for (let i = 1; i < turns.length; i++) gaps.push((turns[i]?.at ?? 0) - (turns[i - 1]?.at ?? 0));
  if (gaps.length < 2) return false;
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  // Relative to the call's own pace, so a transcript replayed with evenly spaced times never reads as waiting.
  return gaps.some((g) => g >= LONG_WAIT_MS && g >= 4 * median);
}

/** Speech-to-text writes "can’t" as often as "can't"; the patterns are written with the plain apostrophe. */
function plain(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'");
}

/** Each signal that fired, with how many times. */
function signalsOf(turns: readonly Turn[], customer: readonly Turn[], context: SentimentContext): Map<SentimentSignal, number> {
  const fired = new Map<SentimentSignal, number>();
  const add = (signal: SentimentSignal): void => void fired.set(signal, (fired.get(signal) ?? 0) + 1);
  let lastCannotHelp = -1;
  turns.forEach((t, i) => {
    if (t.role === 'agent' && AGENT_CANNOT_HELP.test(plain(t.content))) {
      add('agent_cannot_help');
      lastCannotHelp = i;
    }
  });
  let deadAir = 0;
  customer.forEach((t, i) => {
    const previous = customer[i - 1];
    const text = plain(t.content);
    if (REPEAT_WORDS.test(text) || (previous !== undefined && sameRequest(previous.content, t.content))) add('repeated_request');
    if (CORRECTION.test(text.trim())) add('correction');
    if (ESCALATION.test(text)) add('escalation');
    if (GAVE_UP.test(text)) add('gave_up');
    if (WAITING.test(text)) add('long_wait');
    if (DEAD_AIR.test(text)) deadAir++;
  });
  // Once can be a line that dropped for a second; asked again, the customer is being kept waiting.
  if (deadAir >= 2) add('long_wait');
  if (context.transferRequested) add('transfer_requested');
  if (hasLongWait(turns)) add('long_wait');
  // "No rooms in the east… none there either… the south, then: booked, reference 12AB": the agent got there in
  // the end, and the caller has what they called for. Only an agent turn after the last setback that resolves
  // and fails nothing counts ("sorry, I cannot change it, your booking is non-refundable" resolves nothing).
  // The customer's own friction on the way still counts.
  if (lastCannotHelp >= 0 && turns.slice(lastCannotHelp + 1).some((t) => t.role === 'agent' && resolvesCleanly(t.content))) {
    fired.delete('agent_cannot_help');
  }
  return fired;
}

/**
 * Sentiment of the conversation so far, turns oldest first (the order is trusted, not re-sorted by `at`).
 * `context` adds what the call knows beyond its words (a transfer was requested).
 */
export function conversationSentiment(turns: readonly Turn[], context: SentimentContext = {}): CallSentiment {
  const spoken = turns.filter((t) => t.content.trim() !== '');
  const customer = spoken.filter((t) => t.role === 'customer');
  const fired = signalsOf(spoken, customer, context);
  const scored = customer.map((t) => ({ turn: t, sentiment: turnSentiment(t.content) }));
  const trend = scored.slice(-TREND_LENGTH).map((s) => round(s.sentiment.score, 2));

  // A single utterance (how a one-line call, or a text handed to the API, arrives): the model's own answer.
  const only = scored[0];
  if (scored.length === 1 && only && spoken.length === 1 && fired.size === 0) {
    return { label: only.sentiment.label, score: round(only.sentiment.score, 4), trend, signals: [] };
  }

  // Once something went wrong, a polite "thanks, bye" says nothing of how it went: every call ends so.
  const setback = [...fired.keys()].some((s) => s !== 'transfer_requested');
  let mood = 0;
  if (scored.length > 0) {
    const recent = scored.slice(-CUSTOMER_WINDOW);
    let sum = 0;
    let weights = 0;
    recent.forEach((s, i) => {
      // Shrunk by the turn's neutral probability: a "yes" the model leans positive on but calls neutral says
      // little about mood, and many of them must not add up to a pleased customer.
      const score = s.sentiment.score * (1 - s.sentiment.neutral);
      let weight = DECAY ** (recent.length - 1 - i);
      if (score < 0) weight *= NEGATIVE_WEIGHT;
      else if (isPleasantry(s.turn.content)) weight *= setback ? 0 : PLEASANTRY_WEIGHT;
      sum += weight * score;
      weights += weight;
    });
    mood = weights > 0 ? sum / weights : 0;
    // Falling: the newer half of the turns clearly below the older half (e.g. calm, then curt, then upset).
    if (recent.length >= 4) {
      const half = Math.floor(recent.length / 2);
      const mean = (xs: readonly { sentiment: TurnSentiment }[]): number => xs.reduce((a, s) => a + s.sentiment.score, 0) / xs.length;
      if (mean(recent.slice(half)) - mean(recent.slice(0, half)) <= -0.3) fired.set('declining', 1);
    }
  }

  let penalty = 0;
  for (const [signal, count] of fired) penalty += SIGNAL_PENALTY[signal] * Math.min(count, MAX_OCCURRENCES);
  penalty = Math.min(MAX_PENALTY, penalty);
  let score = Math.max(-1, Math.min(1, mood - penalty));
  // A failure rules positive out, however warm the words around it. A transfer is not one by itself: a pleased
  // caller may be put through to sales; it only lowers the score.
  if ([...fired.keys()].some((s) => s !== 'transfer_requested')) score = Math.min(score, POSITIVE_THRESHOLD - 0.01);
  // A customer who gives up or escalates is not satisfied, however the words around it read.
  if (fired.has('gave_up') || fired.has('escalation')) score = Math.min(score, NEGATIVE_THRESHOLD);
  score = round(score, 4);
  const signals = (Object.keys(SIGNAL_PENALTY) as SentimentSignal[]).filter((s) => fired.has(s));
  return { label: labelFor(score), score, trend, signals };
}
