/**
 * Text -> sparse feature vector, shared by training and inference so the two can never drift apart.
 *
 * Why these features:
 * - Word unigrams and bigrams carry the intent ("lost card", "book a table"); character trigrams inside words
 *   survive speech-to-text misspellings and inflections ("cancelled"/"cancelling") that a word model misses.
 *   Only trigrams: with 3- to 5-grams every word made three times as many n-grams, a prediction read half as
 *   many weights again, and the model was no better on the validation splits; trigrams survived misspellings
 *   better than 4-grams (see README.md).
 * - Every n-gram is hashed to 32 bits in place, without building substrings: the per-turn budget is tens of
 *   microseconds. At 32 bits collisions between the ~10^5 n-grams of the training data are negligible, and the
 *   model keeps only the hashes it saw, so the hash space costs nothing in weights.
 * - Digits collapse to "0" so that amounts, dates and card numbers do not become features of their own.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct seeds keep a word, a bigram and a character n-gram with the same letters apart.
const WORD_SEED = 0x9e3779b1;
const BIGRAM_SEED = 0x85ebca6b;
const CHAR_SEED = 0xc2b2ae35;
const CHAR_MIN = 3;
const CHAR_MAX = 3;
/** Which n-grams a model was trained on, kept in its file: a model is only valid with the same features. */
export const NGRAMS = `words 1-2, characters ${CHAR_MIN}-${CHAR_MAX}`;

/** Lowercase letters, digits as "0" and apostrophes; everything else separates words. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019`]/g, "'")
    .replace(/[0-9]/g, '0')
    .replace(/[^a-z0'\s]+/g, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ')
    .trim();
}

export function words(text: string): string[] {
  const n = normalise(text);
  return n === '' ? [] : n.split(/\s+/);
}

function hashWord(word: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ BIGRAM_SEED, FNV_PRIME) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/**
 * Calls visit with the hash of every n-gram of the text, repeated as often as it occurs (order is not
 * meaningful). A callback rather than an array: prediction looks each hash up as it comes, with no allocation.
 */
export function forEachNgram(tokens: readonly string[], visit: (hash: number) => void): void {
  let previous = hashWord('<s>', WORD_SEED);
  for (const word of tokens) {
    const w = hashWord(word, WORD_SEED);
    visit(w);
    visit(mix(previous, w));
    previous = w;
    // " word " with boundary spaces, so prefixes and suffixes are features of their own.
    const padded = ` ${word} `;
    for (let start = 0; start + CHAR_MIN <= padded.length; start++) {
      let h = (FNV_OFFSET ^ CHAR_SEED) >>> 0;
      for (let k = 0; k < CHAR_MAX && start + k < padded.length; k++) {
        h = Math.imul(h ^ padded.charCodeAt(start + k), FNV_PRIME) >>> 0;
        if (k + 1 >= CHAR_MIN) visit((h ^ (k + 1)) >>> 0);
      }
    }
  }
  if (tokens.length > 0) visit(mix(previous, hashWord('</s>', WORD_SEED)));
}

/** Hashes of every n-gram of the text, repeated as often as it occurs (order is not meaningful). */
export function ngramHashes(tokens: readonly string[]): number[] {
  const out: number[] = [];
  forEachNgram(tokens, (h) => out.push(h));
  return out;
}

/** Distinct hashes with their counts, hashes ascending. */
export function countHashes(hashes: readonly number[]): { keys: number[]; counts: number[] } {
  const sorted = Uint32Array.from(hashes).sort();
  const keys: number[] = [];
  const counts: number[] = [];
  for (const h of sorted) {
    if (keys.length > 0 && keys[keys.length - 1] === h) counts[counts.length - 1]! += 1;
    else {
      keys.push(h);
      counts.push(1);
    }
  }
  return { keys, counts };
}
