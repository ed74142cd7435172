/**
 * The intent model at run time: a multinomial logistic regression over hashed word and character n-grams
 * (features.ts), trained by train.ts on CLINC150 + Banking77 and stored, pruned and quantised to 8 bits, in
 * intent-model.bin (a generated file; see README.md).
 *
 * Why the model answers "no intent" by itself: a wrong topic on the wallboard is worse than none, so a text
 * whose best intent is CLINC150's out-of-scope class, or whose best probability is under the threshold tuned
 * on the validation split, is out of scope.
 */
import { readFileSync } from 'node:fs';
import { NGRAMS, forEachNgram, words } from './features.ts';

const MAGIC = 0x4d49434c; // "LCIM" read little-endian
const VERSION = 1;

export interface IntentModelHeader {
  labels: string[];
  /** Label of the explicit out-of-scope class. */
  outOfScope: string;
  /** Minimum probability of the best in-scope intent; below it the text is out of scope. */
  threshold: number;
  /** Quantised weight * scale = weight. */
  scale: number;
  features: number;
  entries: number;
  /** Free-form provenance: data commits, settings, figures on the validation split. */
  meta: Record<string, unknown>;
}

export interface ModelArrays {
  /** n-gram hashes the model knows, ascending. */
  hashes: Uint32Array;
  idf: Float32Array;
  /** Row f of the sparse weight matrix is entries rowStart[f] .. rowStart[f+1]-1. */
  rowStart: Uint32Array;
  bias: Float32Array;
  entryClass: Uint8Array;
  entryWeight: Int8Array;
}

export interface IntentScore {
  intent: string;
  probability: number;
}

export interface IntentPrediction {
  /** The recognised intent, or null when the text is out of scope (or says nothing). */
  intent: string | null;
  /** Probability of the best in-scope intent, whether or not it passed the threshold. */
  confidence: number;
  /** The best in-scope intents, most probable first. */
  ranked: IntentScore[];
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export function encodeModel(header: IntentModelHeader, a: ModelArrays): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(json.length, 8);
  parts.push(head, json, Buffer.alloc(align4(json.length) - json.length));
  for (const arr of [a.hashes, a.idf, a.rowStart, a.bias, a.entryClass, a.entryWeight]) {
    const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    parts.push(bytes, Buffer.alloc(align4(bytes.length) - bytes.length));
  }
  return Buffer.concat(parts);
}

export function decodeModel(buf: Buffer): { header: IntentModelHeader; arrays: ModelArrays } {
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION) throw new Error('intent model: unknown file format');
  const jsonLength = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + jsonLength).toString('utf8')) as IntentModelHeader;
  // Copy into a fresh, aligned buffer: typed-array views need their element alignment.
  const body = new Uint8Array(buf.subarray(12 + align4(jsonLength)));
  let offset = 0;
  const take = <T>(make: (b: ArrayBuffer, o: number, n: number) => T, count: number, size: number): T => {
    const view = make(body.buffer, offset, count);
    offset += align4(count * size);
    return view;
  };
  const F = header.features;
  const C = header.labels.length;
  const N = header.entries;
  const arrays: ModelArrays = {
    hashes: take((b, o, n) => new Uint32Array(b, o, n), F, 4),
    idf: take((b, o, n) => new Float32Array(b, o, n), F, 4),
    rowStart: take((b, o, n) => new Uint32Array(b, o, n), F + 1, 4),
    bias: take((b, o, n) => new Float32Array(b, o, n), C, 4),
    entryClass: take((b, o, n) => new Uint8Array(b, o, n), N, 1),
    entryWeight: take((b, o, n) => new Int8Array(b, o, n), N, 1),
  };
  if (offset > body.length) throw new Error('intent model: truncated file');
  return { header, arrays };
}

export class IntentModel {
  readonly labels: readonly string[];
  readonly header: IntentModelHeader;
  readonly arrays: ModelArrays;
  // n-gram hash -> row, open addressing in typed arrays: a Map keyed by 32-bit unsigned hashes boxes every key
  // above 2^31 and made the lookups most of the cost of a turn.
  private readonly slotHash: Uint32Array;
  private readonly slotRow: Int32Array;
  private readonly slotMask: number;
  private readonly oosIndex: number;
  // The weight entries once more, one 32-bit word each (weight << 8 | class): the loop over them is most of the
  // work per turn, and this is one load per entry instead of two.
  private readonly packed: Int32Array;
  // Scratch space reused across calls: prediction is synchronous, so one set per model is enough. The scores
  // have 256 slots, one per possible 8-bit class, whatever the number of labels: indexing them by `x & 0xff`
  // then needs no bounds check in the hot loop (measured faster than a scores array of the label count).
  private readonly scores: Float64Array;
  private readonly seen: Uint32Array;
  private readonly count: Uint32Array;
  private rows: Int32Array;
  private found = 0;
  private generation = 0;

  constructor(header: IntentModelHeader, arrays: ModelArrays) {
    if (header.meta.ngrams !== undefined && header.meta.ngrams !== NGRAMS) {
      throw new Error(
        `intent model: trained on ${String(header.meta.ngrams)}, features.ts makes ${NGRAMS}: retrain it (npm run train:intent)`,
      );
    }
    this.header = header;
    this.labels = header.labels;
    this.arrays = arrays;
    let size = 1;
    while (size < arrays.hashes.length * 2) size *= 2;
    this.slotHash = new Uint32Array(size);
    this.slotRow = new Int32Array(size).fill(-1);
    this.slotMask = size - 1;
    arrays.hashes.forEach((h, i) => {
      let slot = h & this.slotMask;
      while (this.slotRow[slot] !== -1) slot = (slot + 1) & this.slotMask;
      this.slotHash[slot] = h;
      this.slotRow[slot] = i;
    });
    this.oosIndex = header.labels.indexOf(header.outOfScope);
    this.packed = Int32Array.from(arrays.entryWeight, (w, e) => (w << 8) | arrays.entryClass[e]!);
    this.scores = new Float64Array(256);
    this.seen = new Uint32Array(header.features);
    this.count = new Uint32Array(header.features);
    this.rows = new Int32Array(256);
  }

  /** The row of an n-gram hash, -1 if the model does not know it. */
  rowOf(hash: number): number {
    let slot = hash & this.slotMask;
    for (;;) {
      const r = this.slotRow[slot]!;
      if (r === -1 || this.slotHash[slot] === hash) return r;
      slot = (slot + 1) & this.slotMask;
    }
  }

  static fromBuffer(buf: Buffer): IntentModel {
    const { header, arrays } = decodeModel(buf);
    return new IntentModel(header, arrays);
  }

  // Counting by row with a generation stamp instead of sorting the hashes: the same counts as training's
  // countHashes (n-grams the model does not know are dropped either way), without a sort per turn.
  private readonly visit = (hash: number): void => {
    const r = this.rowOf(hash);
    if (r < 0) return;
    if (this.seen[r] === this.generation) {
      this.count[r]! += 1;
      return;
    }
    this.seen[r] = this.generation;
    this.count[r] = 1;
    if (this.found === this.rows.length) {
      const grown = new Int32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    this.rows[this.found++] = r;
  };

  /**
   * The scores (logits) of the text into the scratch array, false if it has no known n-gram. The array is
   * overwritten by the next call.
   */
  private score(text: string): boolean {
    const { idf, bias, rowStart } = this.arrays;
    if (this.generation === 0xffffffff) {
      this.seen.fill(0);
      this.generation = 0;
    }
    this.generation++;
    this.found = 0;
    forEachNgram(words(text), this.visit);
    const n = this.found;
    if (n === 0) return false;
    const { rows, count, packed } = this;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const v = (1 + Math.log(count[r]!)) * idf[r]!;
      norm += v * v;
    }
    const s = this.scores;
    s.fill(0);
    s.set(bias);
    const k = this.header.scale / Math.sqrt(norm);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const v = (1 + Math.log(count[r]!)) * idf[r]! * k;
      const end = rowStart[r + 1]!;
      let e = rowStart[r]!;
      for (; e + 3 < end; e += 4) {
        const x0 = packed[e]!;
        const x1 = packed[e + 1]!;
        const x2 = packed[e + 2]!;
        const x3 = packed[e + 3]!;
        s[x0 & 0xff]! += v * (x0 >> 8);
        s[x1 & 0xff]! += v * (x1 >> 8);
        s[x2 & 0xff]! += v * (x2 >> 8);
        s[x3 & 0xff]! += v * (x3 >> 8);
      }
      for (; e < end; e++) {
        const x = packed[e]!;
        s[x & 0xff]! += v * (x >> 8);
      }
    }
    return true;
  }

  /** Subtracts the largest score and returns the softmax denominator: p[c] = exp(s[c]) / sum. */
  private normalisedScores(): number {
    const s = this.scores;
    const C = this.labels.length;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (s[c]! > max) max = s[c]!;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      s[c]! -= max;
      sum += Math.exp(s[c]!);
    }
    return sum;
  }

  /** Class probabilities for the text (softmax over every label, out-of-scope included); null if no known n-gram. */
  probabilities(text: string): Float64Array | null {
    if (!this.score(text)) return null;
    const sum = this.normalisedScores();
    const s = this.scores;
    const p = new Float64Array(this.labels.length);
    for (let c = 0; c < p.length; c++) p[c] = Math.exp(s[c]!) / sum;
    return p;
  }

  /** The best in-scope intents of one utterance, and whether the best one is trusted. */
  predict(text: string, top = 3): IntentPrediction {
    if (!this.score(text)) return { intent: null, confidence: 0, ranked: [] };
    // Only the probabilities of the ranked intents and of out-of-scope are needed, not all of them.
    const sum = this.normalisedScores();
    const s = this.scores;
    const ranked: IntentScore[] = [];
    const taken: number[] = [];
    for (let k = 0; k < top; k++) {
      let best = -1;
      for (let c = 0; c < this.labels.length; c++) {
        if (c !== this.oosIndex && (best < 0 || s[c]! > s[best]!) && !taken.includes(c)) best = c;
      }
      if (best < 0) break;
      taken.push(best);
      ranked.push({ intent: this.labels[best] ?? '', probability: Math.exp(s[best]!) / sum });
    }
    const best = ranked[0];
    const oos = this.oosIndex < 0 ? 0 : Math.exp(s[this.oosIndex]!) / sum;
    const trusted = best !== undefined && best.probability >= this.header.threshold && best.probability > oos;
    return { intent: trusted ? best.intent : null, confidence: best?.probability ?? 0, ranked };
  }
}

export const MODEL_FILE = new URL('./intent-model.bin', import.meta.url);

let loaded: IntentModel | undefined;

/** The shipped model, read once on first use (about a second's worth of start-up work is not spent by callers who never ask). */
export function intentModel(): IntentModel {
  loaded ??= IntentModel.fromBuffer(readFileSync(MODEL_FILE));
  return loaded;
}
