/**
 * The per-turn sentiment model at run time: the generated weights and one sparse dot product per class.
 * Plain TypeScript, no native code and nothing fetched: a turn costs a tokenisation and a few dozen table reads.
 */
import { featureIds, HASH_BITS as FEATURE_BITS, type Lexicon } from './features.ts';
import { BIAS, HASH_BITS, LEXICON, SCALE, TABLE } from './weights.generated.ts';

export { CLASSES } from './features.ts';

if (HASH_BITS !== FEATURE_BITS) throw new Error('sentiment weights were trained with another feature table; run npm run train:sentiment');

/** Per feature id: [negative - neutral, positive - neutral] logits. */
const table = (() => {
  const bytes = Buffer.from(TABLE, 'base64');
  // Copied out first: the decoded buffer may start at an odd offset inside Node's buffer pool.
  const quantised = new Int16Array(new Uint8Array(bytes).buffer);
  const weights = new Float32Array(quantised.length);
  // A plain loop: Float32Array.from with a mapping function took a quarter of a second at start-up.
  for (let i = 0; i < quantised.length; i++) weights[i] = (quantised[i] ?? 0) * SCALE;
  return weights;
})();
const lexicon: Lexicon = new Map(
  LEXICON.split(',').map((entry) => {
    const [word = '', valence = '0'] = entry.split(' ');
    return [word, Number(valence)];
  }),
);
const negativeBias = BIAS[0] ?? 0;
const positiveBias = BIAS[1] ?? 0;

export interface TurnSentiment {
  /** Class probabilities. */
  negative: number;
  neutral: number;
  positive: number;
  /** positive - negative, -1..1. */
  score: number;
  label: 'negative' | 'neutral' | 'positive';
}

/** Sentiment of one utterance on its own; blank text is neutral. */
export function classifyTurn(text: string): TurnSentiment {
  let zNegative = negativeBias;
  let zPositive = positiveBias;
  for (const id of featureIds(text, lexicon)) {
    zNegative += table[id * 2] ?? 0;
    zPositive += table[id * 2 + 1] ?? 0;
  }
  // Logits relative to neutral's (0); shifted by the largest so that exp never overflows.
  const max = Math.max(0, zNegative, zPositive);
  const eNegative = Math.exp(zNegative - max);
  const eNeutral = Math.exp(-max);
  const ePositive = Math.exp(zPositive - max);
  const sum = eNegative + eNeutral + ePositive;
  const negative = eNegative / sum;
  const neutral = eNeutral / sum;
  const positive = ePositive / sum;
  const label = neutral >= negative && neutral >= positive ? 'neutral' : positive > negative ? 'positive' : 'negative';
  return { negative, neutral, positive, score: positive - negative, label };
}
