/**
 * Text -> hashed feature ids, shared by training and inference so that both see exactly the same features.
 *
 * Why these features:
 * - Speech-to-text and chat write the same words many ways ("don’t", "dont", "do not"), so contractions are
 *   expanded and typographic apostrophes folded before anything is counted.
 * - Negation flips sentiment words but not the call's vocabulary, so words after a negator (up to the end of
 *   the clause, at most NEGATION_SPAN words) become their own "not_" features: "not bad" and "not happy" are
 *   learnt apart from "bad" and "happy". Bigrams keep set phrases whole ("no problem", "thank you").
 * - Word-internal character trigrams let unseen spellings and inflections ("frustratingly", "cancelation")
 *   share weight with seen ones; they are kept to words of four letters or more, where they carry meaning.
 * - A word-valence lexicon (VADER's, human-rated) adds one feature per rated word, by sign and strength, so
 *   that sentiment words rare in the training data still count; the model learns how far to trust it. Words
 *   that on a call are discourse markers or service vocabulary rather than mood ("yes", "like", "well",
 *   "please", "cancel") are not looked up: their own weights are learnt from the data instead.
 * - Hashing into a fixed table keeps the weights a small, fixed size with no vocabulary to ship; collisions
 *   at this table size cost a fraction of a point.
 */

/** Class order of the model's outputs. */
export const CLASSES = ['negative', 'neutral', 'positive'] as const;
export const HASH_BITS = 18;
export const TABLE_SIZE = 1 << HASH_BITS;
const NEGATION_SPAN = 4;

const NEGATORS = new Set(['not', 'no', 'never', 'nothing', 'nobody', 'none', 'nor', 'neither', 'without', 'hardly', 'nowhere']);
const CLAUSE_ENDS = new Set(['.', ',', ';', ':', '!', '?', 'but', 'and', 'so', 'though', 'although']);

// Written without apostrophes by many transcribers; only forms that are not also ordinary words are listed.
const BARE_CONTRACTIONS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    dont: 'do not',
    doesnt: 'does not',
    didnt: 'did not',
    isnt: 'is not',
    arent: 'are not',
    wasnt: 'was not',
    werent: 'were not',
    cant: 'can not',
    couldnt: 'could not',
    wouldnt: 'would not',
    shouldnt: 'should not',
    havent: 'have not',
    hasnt: 'has not',
    hadnt: 'had not',
    aint: 'is not',
    wont: 'will not',
    im: 'i am',
    ive: 'i have',
    youre: 'you are',
    thats: 'that is',
    whats: 'what is',
    theres: 'there is',
  }),
);

const CONTRACTIONS: ReadonlyMap<string, string> = new Map([
  ["won't", ' will not'],
  ["can't", ' can not'],
  ['cannot', ' can not'],
  ["ain't", ' is not'],
  ["n't", ' not'],
  ["'m", ' am'],
  ["'re", ' are'],
  ["'ve", ' have'],
  ["'ll", ' will'],
  ["'d", ' would'],
  ["'s", ' s'],
]);
const CONTRACTION = /\b(?:won't|can't|cannot|ain't)\b|n't\b|'(?:m|re|ve|ll|d|s)\b/g;

/** Lower-cased, apostrophes folded, contractions expanded, numbers collapsed; words and ! ? . , ; : as tokens. */
export function tokenize(text: string): string[] {
  // One pass per step (not one replace per contraction): this runs on every turn of every call.
  const expanded = text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'")
    .replace(CONTRACTION, (m) => CONTRACTIONS.get(m) ?? m);
  const tokens: string[] = [];
  for (const token of expanded.match(/[a-z]+|[0-9]+(?:[.,:][0-9]+)*|[!?.,;:]/g) ?? []) {
    const first = token.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      tokens.push('<num>');
      continue;
    }
    const bare = BARE_CONTRACTIONS.get(token);
    if (bare === undefined) tokens.push(token);
    else for (const part of bare.split(' ')) tokens.push(part);
  }
  return tokens;
}

/** 32-bit FNV-1a of a string. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Combines a hash with a number (a feature kind, another hash): order matters, so (a, b) and (b, a) differ. */
function mix(h: number, v: number): number {
  let x = Math.imul(h ^ v, 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77);
  return (x ^ (x >>> 13)) >>> 0;
}

const LEXICON_STOPWORDS = new Set('yes yeah yep ok okay like well sure please help kind pretty cancel credit no thank thanks'.split(' '));

/** Word -> mean human valence (-4..4); only single lower-case words are kept. */
export type Lexicon = ReadonlyMap<string, number>;

/** Parses `word<TAB>valence` lines (the VADER lexicon's first two columns), dropping stop words and emoticons. */
export function parseLexicon(text: string): Map<string, number> {
  const lexicon = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [word, valence] = line.split('\t');
    if (word === undefined || valence === undefined || !/^[a-z]+$/.test(word) || LEXICON_STOPWORDS.has(word)) continue;
    lexicon.set(word, Number(valence));
  }
  return lexicon;
}

const UNIGRAM = 1;
const NEGATED_UNIGRAM = 2;
const BIGRAM = 3;
const TRIGRAM = 4;
const SHAPE = 5;
const LEXICAL = 6;
const NEGATED_LEXICAL = 7;
const SENTENCE_START = hashString('<s>');
const SENTENCE_END = hashString('</s>');

/** Valence -> 0..5: sign and strength (weak < 1.5 <= mid < 2.5 <= strong). */
function lexiconBin(valence: number): number {
  const strength = Math.abs(valence) >= 2.5 ? 2 : Math.abs(valence) >= 1.5 ? 1 : 0;
  return (valence > 0 ? 3 : 0) + strength;
}

/** Hashed feature ids of a text (with repeats: a word said twice counts twice). Bias is not included. */
export function featureIds(text: string, lexicon: Lexicon): number[] {
  const tokens = tokenize(text);
  const mask = TABLE_SIZE - 1;
  const ids: number[] = [];
  let negated = 0;
  let previous = SENTENCE_START;
  for (const token of tokens) {
    if (CLAUSE_ENDS.has(token)) negated = 0;
    const h = hashString(token);
    ids.push(mix(h, negated > 0 ? NEGATED_UNIGRAM : UNIGRAM) & mask);
    ids.push(mix(mix(previous, h), BIGRAM) & mask);
    if (token.length >= 4 && negated === 0) {
      // Trigrams of "<token>", hashed from the character codes without building substrings.
      const last = token.length + 1;
      const charAt = (i: number): number => (i === 0 ? 60 : i === last ? 62 : token.charCodeAt(i - 1));
      for (let i = 0; i + 2 <= last; i++) {
        ids.push(mix((charAt(i) << 16) ^ (charAt(i + 1) << 8) ^ charAt(i + 2), TRIGRAM) & mask);
      }
    }
    const valence = lexicon.get(token);
    if (valence !== undefined && valence !== 0) {
      ids.push(mix(lexiconBin(valence), negated > 0 ? NEGATED_LEXICAL : LEXICAL) & mask);
    }
    if (negated > 0) negated--;
    if (NEGATORS.has(token)) negated = NEGATION_SPAN;
    previous = h;
  }
  ids.push(mix(mix(previous, SENTENCE_END), BIGRAM) & mask);
  // Very short turns ("yes", "okay") are a kind of their own on a call: mostly acknowledgements.
  ids.push(mix(tokens.length <= 2 ? 0 : tokens.length <= 8 ? 1 : 2, SHAPE) & mask);
  return ids;
}
