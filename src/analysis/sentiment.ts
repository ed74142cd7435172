/**
 * Conversation sentiment from VADER (lexicon + rules: negation, intensifiers, caps, "but").
 *
 * Why these weights:
 * - The wallboard asks "how is the CUSTOMER feeling right now?", so the score is a weighted mean of the
 *   customer's last CUSTOMER_WINDOW non-empty turns, each turn DECAY times the weight of the next newer one
 *   (1, 0.6, 0.36, ...): a caller who was angry but now says thanks reads as recovering, while one calm turn
 *   does not erase a string of angry ones.
 * - Agents are polite by script, so their turns are blended in at a fixed AGENT_SHARE of 5 %: however warm
 *   the agent, a customer scoring 0 stays neutral (0.05 < THRESHOLD), and the agent moves any score by at most
 *   0.1. Agents still count a little so that an agent who has to deliver bad news tips a borderline call.
 * - Threshold ±0.10 instead of VADER's per-sentence ±0.05: a conversation score is an average of turns and
 *   transcripts are full of fillers VADER scores mildly ("okay" 0.23, "yeah" 0.30), so a slightly wider
 *   neutral band keeps calm calls neutral. On the VADER tweet set this costs about 0.2 points of agreement.
 * - No customer turns yet -> neutral 0: the agent's greeting says nothing about the caller.
 */
import { SentimentIntensityAnalyzer } from 'vader-sentiment';
import type { SentimentLabel, SentimentResult, Turn } from './types.ts';

export const CUSTOMER_WINDOW = 6;
export const DECAY = 0.6;
export const AGENT_SHARE = 0.05;
export const THRESHOLD = 0.1;

// The vader-sentiment JS port compares negation words case-sensitively (Python VADER lowercases them), so a
// sentence-initial "Not bad" scored -0.54 and "Never good" +0.44. Lowercasing only the negators fixes that and
// leaves the caps emphasis of sentiment words ("GREAT") alone.
const NEGATORS = new Set(
  (
    'aint arent cannot cant couldnt darent didnt doesnt dont hadnt hasnt havent isnt mightnt mustnt neither ' +
    'neednt never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh uh-uh wasnt werent without ' +
    'wont wouldnt rarely seldom despite least'
  ).split(' '),
);

// Service-call vocabulary that VADER's social-media lexicon scores but that carries no mood on a support line:
// "I want to cancel" (-1.0), "my credit card was charged" (+1.6, -0.8), "please help" (+1.3, +1.7),
// "honestly, this is ridiculous" (+2.0). They are swapped for a lexicon-free word so that negation distances
// stay intact. Cost on the VADER tweet set: about 0.1 points of sign agreement.
const DOMAIN_NEUTRAL = new Set('cancel cancels cancelled canceled charged pay credit help please honestly'.split(' '));

function normalise(text: string): string {
  return text
    .replace(/[\u2018\u2019]/g, "'") // speech-to-text often emits typographic apostrophes: don’t
    .replace(/[A-Za-z][A-Za-z'-]*/g, (word) => {
      const lower = word.toLowerCase();
      if (DOMAIN_NEUTRAL.has(lower)) return 'it';
      return NEGATORS.has(lower) || lower.includes("n't") ? lower : word;
    });
}

/** VADER compound score of one utterance, -1..1; 0 for blank text. */
export function scoreText(text: string): number {
  if (text.trim() === '') return 0;
  return SentimentIntensityAnalyzer.polarity_scores(normalise(text)).compound;
}

export function labelFor(score: number): SentimentLabel {
  if (score >= THRESHOLD) return 'positive';
  if (score <= -THRESHOLD) return 'negative';
  return 'neutral';
}

/**
 * Every new turn rescores the conversation's window (up to CUSTOMER_WINDOW turns of each role), but VADER
 * costs tens of microseconds a sentence and was the largest cost of ingesting a turn. A text's score never
 * changes, so scores are remembered by text: each turn is run through VADER once while it is in a window.
 * Bounded (least recently used out first): enough for the windows of many thousands of talking calls, a
 * few MB at most; a text that fell out is simply scored again.
 */
export const SCORE_MEMO_SIZE = 50_000;
const scoreMemo = new Map<string, number>();

function rememberedScore(text: string): number {
  const known = scoreMemo.get(text);
  if (known !== undefined) {
    scoreMemo.delete(text);
    scoreMemo.set(text, known);
    return known;
  }
  const score = scoreText(text);
  scoreMemo.set(text, score);
  if (scoreMemo.size > SCORE_MEMO_SIZE) scoreMemo.delete(scoreMemo.keys().next().value as string);
  return score;
}

/** Decayed mean of the newest `window` texts (texts oldest first); undefined when there are none. */
function recencyWeightedMean(texts: readonly string[]): number | undefined {
  const recent = texts.slice(-CUSTOMER_WINDOW);
  if (recent.length === 0) return undefined;
  let sum = 0;
  let weights = 0;
  recent.forEach((text, i) => {
    const weight = DECAY ** (recent.length - 1 - i);
    sum += weight * rememberedScore(text);
    weights += weight;
  });
  return sum / weights;
}

function contentsOf(turns: readonly Turn[], role: Turn['role']): string[] {
  return turns.filter((t) => t.role === role && t.content.trim() !== '').map((t) => t.content);
}

/** Sentiment of the conversation so far, turns oldest first (the order is trusted, not re-sorted by `at`). */
export function conversationSentiment(turns: readonly Turn[]): SentimentResult {
  const customer = recencyWeightedMean(contentsOf(turns, 'customer'));
  if (customer === undefined) return { label: 'neutral', score: 0 };
  const agent = recencyWeightedMean(contentsOf(turns, 'agent'));
  const raw = agent === undefined ? customer : (1 - AGENT_SHARE) * customer + AGENT_SHARE * agent;
  // Rounded so the label always matches the score a client sees; "+ 0" turns -0 into 0.
  const score = Math.round(Math.max(-1, Math.min(1, raw)) * 10_000) / 10_000 + 0;
  return { label: labelFor(score), score };
}
