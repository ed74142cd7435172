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

/** Lower-cased, apostrophes folded, contractions expanded, numbers collapsed; words and ! ? . , as tokens. */
export function tokenize(text: string): string[] {
  const expanded = text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'")
    .replace(/\bwon't\b/g, 'will not')
    .replace(/\bcan't\b/g, 'can not')
    .replace(/\bcannot\b/g, 'can not')
    .replace(/\bain't\b/g, 'is not')
    .replace(/n't\b/g, ' not')
    .replace(/'m\b/g, ' am')
    .replace(/'re\b/g, ' are')
    .replace(/'ve\b/g, ' have')
    .replace(/'ll\b/g, ' will')
    .replace(/'d\b/g, ' would')
    .replace(/'s\b/g, ' s');
  const tokens: string[] = [];
  for (const match of expanded.matchAll(/[a-z]+|[0-9]+(?:[.,:][0-9]+)*|[!?.,;:]/g)) {
    const token = match[0];
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

/** 32-bit FNV-1a with a per-kind seed, so that a word, a bigram and a trigram with the same letters differ. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
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

function lexiconBin(valence: number, negated: boolean): string {
  const strength = Math.abs(valence) >= 2.5 ? 'strong' : Math.abs(valence) >= 1.5 ? 'mid' : 'weak';
  return (negated ? 'neglex_' : 'lex_') + (valence > 0 ? 'pos_' : 'neg_') + strength;
}

const UNIGRAM = 1;
const BIGRAM = 2;
const TRIGRAM = 3;
const SHAPE = 4;
const LEXICAL = 5;

/** Hashed feature ids of a text (with repeats: a word said twice counts twice). Bias is not included. */
export function featureIds(text: string, lexicon: Lexicon): number[] {
  const tokens = tokenize(text);
  const mask = TABLE_SIZE - 1;
  const ids: number[] = [];
  let negated = 0;
  let previous = '<s>';
  for (const token of tokens) {
    if (CLAUSE_ENDS.has(token)) negated = 0;
    const marked = negated > 0 ? 'not_' + token : token;
    ids.push(hash(marked, UNIGRAM) & mask);
    ids.push(hash(previous + ' ' + token, BIGRAM) & mask);
    if (token.length >= 4 && negated === 0) {
      const padded = '<' + token + '>';
      for (let i = 0; i + 3 <= padded.length; i++) ids.push(hash(padded.slice(i, i + 3), TRIGRAM) & mask);
    }
    const valence = lexicon.get(token);
    if (valence !== undefined && valence !== 0) ids.push(hash(lexiconBin(valence, negated > 0), LEXICAL) & mask);
    if (negated > 0) negated--;
    if (NEGATORS.has(token) || (token === 'not' && negated === 0)) negated = NEGATION_SPAN;
    previous = token;
  }
  ids.push(hash(previous + ' </s>', BIGRAM) & mask);
  // Very short turns ("yes", "okay") are a kind of their own on a call: mostly acknowledgements.
  ids.push(hash(tokens.length <= 2 ? 'short' : tokens.length <= 8 ? 'medium' : 'long', SHAPE) & mask);
  return ids;
}
