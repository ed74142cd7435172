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
import { ngramHashes, words } from './features.ts';

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
  // Scratch space reused across calls: predict is synchronous, so one set per model is enough.
  private readonly scores: Float64Array;
  private readonly seen: Uint32Array;
  private readonly count: Uint32Array;
  private generation = 0;

  constructor(header: IntentModelHeader, arrays: ModelArrays) {
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
    this.scores = new Float64Array(header.labels.length);
    this.seen = new Uint32Array(header.features);
    this.count = new Uint32Array(header.features);
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

  /** Class probabilities for the text (softmax over every label, out-of-scope included); null if no known n-gram. */
  probabilities(text: string): Float64Array | null {
    const { idf, bias, rowStart, entryClass, entryWeight } = this.arrays;
    // Counting by row with a generation stamp instead of sorting the hashes: the same counts as training's
    // countHashes (n-grams the model does not know are dropped either way), without a sort per turn.
    if (this.generation === 0xffffffff) {
      this.seen.fill(0);
      this.generation = 0;
    }
    const stamp = ++this.generation;
    const rows: number[] = [];
    for (const h of ngramHashes(words(text))) {
      const r = this.rowOf(h);
      if (r < 0) continue;
      if (this.seen[r] === stamp) this.count[r]! += 1;
      else {
        this.seen[r] = stamp;
        this.count[r] = 1;
        rows.push(r);
      }
    }
    if (rows.length === 0) return null;
    const values: number[] = [];
    let norm = 0;
    for (const r of rows) {
      const v = (1 + Math.log(this.count[r]!)) * idf[r]!;
      values.push(v);
      norm += v * v;
    }
    const s = this.scores;
    const C = s.length;
    for (let c = 0; c < C; c++) s[c] = bias[c]!;
    const k = this.header.scale / Math.sqrt(norm);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const v = values[i]! * k;
      const end = rowStart[r + 1]!;
      for (let e = rowStart[r]!; e < end; e++) s[entryClass[e]!]! += v * entryWeight[e]!;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (s[c]! > max) max = s[c]!;
    let sum = 0;
    const p = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const e = Math.exp(s[c]! - max);
      p[c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) p[c]! /= sum;
    return p;
  }

  /** The best in-scope intents of one utterance, and whether the best one is trusted. */
  predict(text: string, top = 3): IntentPrediction {
    const p = this.probabilities(text);
    if (p === null) return { intent: null, confidence: 0, ranked: [] };
    const ranked: IntentScore[] = [];
    const taken = new Set<number>();
    for (let k = 0; k < top; k++) {
      let best = -1;
      for (let c = 0; c < p.length; c++) {
        if (c !== this.oosIndex && !taken.has(c) && (best < 0 || p[c]! > p[best]!)) best = c;
      }
      if (best < 0) break;
      taken.add(best);
      ranked.push({ intent: this.labels[best] ?? '', probability: p[best]! });
    }
    const best = ranked[0];
    const oos = p[this.oosIndex] ?? 0;
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
