/**
 * `npm run train:intent`: trains the intent model and writes intent-model.bin next to this file.
 *
 * Deterministic: fixed seed, fixed data order, no parallelism; the same data and settings give the same bytes.
 * About a minute on one core.
 *
 * Why this recipe:
 * - One softmax over the union of CLINC150's 150 intents, Banking77's 77, a few of livecalls' own
 *   (supplement.ts) and CLINC150's out-of-scope class: a call centre hears all kinds of request, and the
 *   explicit out-of-scope class teaches the model what "none of these" looks like.
 * - tf-idf weighted, L2-normalised n-grams (features.ts), n-grams seen in fewer than MIN_DF training texts
 *   dropped: they cannot generalise and would only grow the file.
 * - AdaGrad with a little L2, a fixed number of epochs chosen on the validation split.
 * - The shipped weights are pruned (prune: a tenth kept, ranked by what they add to a score), retrained on
 *   the kept weights (retrain) and quantised to 8 bits (quantise); the out-of-scope threshold is tuned on THAT
 *   model, on CLINC150's validation split (in-scope val + oos_val), never on a test split.
 *
 *   npx tsx src/analysis/intent/train.ts [--data DIR] [--out FILE] [--holdout] [--set NAME=VALUE ...]
 *   --holdout  keeps every 10th Banking77 training text out of training and reports it (for choosing settings
 *              without looking at the Banking77 test split); the shipped model is trained without it.
 *   --set      overrides one of SETTINGS (numbers only), to compare settings: --set pruneIdfPower=0
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NGRAMS, countHashes, ngramHashes, words } from './features.ts';
import { BANKING77, CLINC, type Example, type IntentData, OUT_OF_SCOPE, dataDir, loadIntentData } from './data.ts';
import { IntentModel, MODEL_FILE, encodeModel, type IntentModelHeader } from './model.ts';
import { SUPPLEMENT_PREFIX, supplementExamples } from './supplement.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';

/** AdaGrad's guard against dividing by zero. */
const EPS = 1e-8;

/**
 * One example's softmax step, shared by `trainSoftmax` and `retrain`: turns the class scores `p` into the
 * gradient of the loss with respect to them (probabilities, minus 1 at the true class `y`), takes the AdaGrad
 * step on the bias, and returns the example's loss.
 */
function scoresToGradient(p: Float64Array, y: number, b: Float64Array, Gb: Float64Array, learningRate: number): number {
  const C = p.length;
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, p[c] ?? 0);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    p[c] = Math.exp((p[c] ?? 0) - max);
    sum += p[c] ?? 0;
  }
  for (let c = 0; c < C; c++) p[c]! /= sum;
  const loss = -Math.log(Math.max(p[y] ?? 0, 1e-12));
  p[y]! -= 1;
  for (let c = 0; c < C; c++) {
    const g = p[c] ?? 0;
    Gb[c]! += g * g;
    b[c]! -= (learningRate * g) / Math.sqrt((Gb[c] ?? 0) + EPS);
  }
  return loss;
}

export interface Settings {
  seed: number;
  epochs: number;
  learningRate: number;
  l2: number;
  minDf: number;
  /** Share of the weights kept by compress. */
  keep: number;
  maxPerRow: number;
  /** compress ranks a weight by |w| * idf^pruneIdfPower (0: by |w| alone). */
  pruneIdfPower: number;
  /** Epochs of training on the kept weights only, after pruning (0: none). */
  retrainEpochs: number;
  retrainLearningRate: number;
  minOosRecall: number;
}

export const SETTINGS: Readonly<Settings> = {
  seed: 20260101,
  epochs: 6,
  learningRate: 0.3,
  l2: 1e-6,
  minDf: 2,
  keep: 0.1,
  maxPerRow: 235,
  pruneIdfPower: 1,
  retrainEpochs: 2,
  retrainLearningRate: 0.1,
  minOosRecall: 0.65,
};

interface Vector {
  rows: Int32Array;
  values: Float32Array;
}

interface Vocabulary {
  hashes: Uint32Array;
  index: Map<number, number>;
  idf: Float32Array;
}

export function buildVocabulary(bags: readonly { keys: number[] }[], minDf: number): Vocabulary {
  const df = new Map<number, number>();
  for (const bag of bags) for (const h of bag.keys) df.set(h, (df.get(h) ?? 0) + 1);
  const hashes = Uint32Array.from([...df].filter(([, n]) => n >= minDf).map(([h]) => h)).sort();
  const index = new Map<number, number>();
  const idf = new Float32Array(hashes.length);
  hashes.forEach((h, i) => {
    index.set(h, i);
    idf[i] = Math.log((bags.length + 1) / ((df.get(h) ?? 0) + 1)) + 1;
  });
  return { hashes, index, idf };
}

export function vectorise(bag: { keys: number[]; counts: number[] }, vocab: Vocabulary): Vector {
  const rows: number[] = [];
  const values: number[] = [];
  bag.keys.forEach((h, i) => {
    const r = vocab.index.get(h);
    if (r === undefined) return;
    rows.push(r);
    values.push((1 + Math.log(bag.counts[i] ?? 1)) * (vocab.idf[r] ?? 0));
  });
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return { rows: Int32Array.from(rows), values: Float32Array.from(values.map((v) => v / norm)) };
}

export function trainSoftmax(
  vectors: readonly Vector[],
  targets: Int32Array,
  F: number,
  C: number,
  settings: Readonly<Settings>,
  log: (line: string) => void,
): { W: Float32Array; b: Float64Array } {
  const W = new Float32Array(F * C);
  const G = new Float32Array(F * C);
  const b = new Float64Array(C);
  const Gb = new Float64Array(C);
  const p = new Float64Array(C);
  const random = mulberry32(settings.seed);
  const order = Int32Array.from(vectors.keys());
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    shuffleInPlace(order, random);
    let loss = 0;
    for (const n of order) {
      const x = vectors[n];
      if (x === undefined) continue;
      const y = targets[n] ?? 0;
      for (let c = 0; c < C; c++) p[c] = b[c] ?? 0;
      for (let k = 0; k < x.rows.length; k++) {
        const base = (x.rows[k] ?? 0) * C;
        const v = x.values[k] ?? 0;
        for (let c = 0; c < C; c++) p[c]! += v * (W[base + c] ?? 0);
      }
      loss += scoresToGradient(p, y, b, Gb, settings.learningRate);
      for (let k = 0; k < x.rows.length; k++) {
        const base = (x.rows[k] ?? 0) * C;
        const v = x.values[k] ?? 0;
        for (let c = 0; c < C; c++) {
          const w = W[base + c] ?? 0;
          const g = v * (p[c] ?? 0) + settings.l2 * w;
          const acc = (G[base + c] ?? 0) + g * g;
          G[base + c] = acc;
          W[base + c] = w - (settings.learningRate * g) / Math.sqrt(acc + EPS);
        }
      }
    }
    log(`epoch ${epoch + 1}/${settings.epochs}: mean loss ${(loss / order.length).toFixed(4)}`);
  }
  return { W, b };
}

export interface SparseWeights {
  rowStart: Uint32Array;
  entryClass: Uint8Array;
  weight: Float32Array;
}

/**
 * Prune the dense weights into the shipped sparse layout. Adding a constant to every class of one feature's
 * row leaves the softmax unchanged, so each row is first centred on its median: most of a row is then close
 * to zero, and only the largest KEEP share of the weights is kept, ranked by |w| * idf^pruneIdfPower. With a
 * power of 1 a weight is ranked by what it adds to a score (a feature's value is proportional to its idf), so
 * the n-grams of almost every text ("the", " i "), whose idf is small and whose rows are most of the work per
 * turn, keep fewer weights. Each row then keeps at most maxPerRow weights (235 = every class: off; 48 did 2.7
 * times less work per turn but lost about a point on both test splits, see README.md).
 */
export function prune(dense: Float32Array, F: number, C: number, idf: Float32Array, settings: Readonly<Settings>): SparseWeights {
  const W = new Float32Array(dense);
  const rank = new Float32Array(F * C);
  for (let f = 0; f < F; f++) {
    const row = W.subarray(f * C, f * C + C);
    const median = Float32Array.from(row).sort()[C >> 1] ?? 0;
    const factor = settings.pruneIdfPower === 0 ? 1 : Math.pow(idf[f] ?? 1, settings.pruneIdfPower);
    for (let c = 0; c < C; c++) {
      row[c]! -= median;
      rank[f * C + c] = Math.abs(row[c]!) * factor;
    }
  }
  const sorted = Float32Array.from(rank).sort();
  const cut = sorted[Math.floor((1 - settings.keep) * sorted.length)] ?? 0;
  // Weights that would quantise to zero are not worth an entry.
  const smallest = (Float32Array.from(W, Math.abs).sort().at(-1) ?? 1) / 127 / 2;
  const rowStart = new Uint32Array(F + 1);
  const cls: number[] = [];
  const weight: number[] = [];
  for (let f = 0; f < F; f++) {
    const kept: { c: number; w: number; r: number }[] = [];
    for (let c = 0; c < C; c++) {
      const w = W[f * C + c] ?? 0;
      const r = rank[f * C + c] ?? 0;
      if (r >= cut && Math.abs(w) >= smallest) kept.push({ c, w, r });
    }
    kept.sort((a, b) => b.r - a.r || a.c - b.c);
    for (const { c, w } of kept.slice(0, settings.maxPerRow).sort((a, b) => a.c - b.c)) {
      cls.push(c);
      weight.push(w);
    }
    rowStart[f + 1] = cls.length;
  }
  return { rowStart, entryClass: Uint8Array.from(cls), weight: Float32Array.from(weight) };
}

/**
 * A few epochs of the same AdaGrad training on the kept weights only: pruning nine weights in ten leaves the
 * rest fitted to a model that no longer exists, and letting them adjust recovers most of what pruning cost.
 */
export function retrain(
  vectors: readonly Vector[],
  targets: Int32Array,
  sparse: SparseWeights,
  bias: Float64Array,
  settings: Readonly<Settings>,
  log: (line: string) => void,
): { sparse: SparseWeights; b: Float64Array } {
  const { rowStart, entryClass } = sparse;
  const w = new Float32Array(sparse.weight);
  const G = new Float32Array(w.length);
  const C = bias.length;
  const b = new Float64Array(bias);
  const Gb = new Float64Array(C);
  const p = new Float64Array(C);
  const random = mulberry32(settings.seed + 1);
  const order = Int32Array.from(vectors.keys());
  const lr = settings.retrainLearningRate;
  for (let epoch = 0; epoch < settings.retrainEpochs; epoch++) {
    shuffleInPlace(order, random);
    let loss = 0;
    for (const n of order) {
      const x = vectors[n];
      if (x === undefined) continue;
      const y = targets[n] ?? 0;
      for (let c = 0; c < C; c++) p[c] = b[c] ?? 0;
      for (let k = 0; k < x.rows.length; k++) {
        const r = x.rows[k] ?? 0;
        const v = x.values[k] ?? 0;
        for (let e = rowStart[r] ?? 0; e < (rowStart[r + 1] ?? 0); e++) p[entryClass[e] ?? 0]! += v * (w[e] ?? 0);
      }
      loss += scoresToGradient(p, y, b, Gb, lr);
      for (let k = 0; k < x.rows.length; k++) {
        const r = x.rows[k] ?? 0;
        const v = x.values[k] ?? 0;
        for (let e = rowStart[r] ?? 0; e < (rowStart[r + 1] ?? 0); e++) {
          const g = v * (p[entryClass[e] ?? 0] ?? 0) + settings.l2 * (w[e] ?? 0);
          G[e]! += g * g;
          w[e]! -= (lr * g) / Math.sqrt((G[e] ?? 0) + EPS);
        }
      }
    }
    log(`retrain epoch ${epoch + 1}/${settings.retrainEpochs}: mean loss ${(loss / order.length).toFixed(4)}`);
  }
  return { sparse: { rowStart, entryClass, weight: w }, b };
}

/** 8-bit weights: quantised weight * scale = weight; entries that round to zero are dropped. */
export function quantise(sparse: SparseWeights) {
  const F = sparse.rowStart.length - 1;
  const scale = (Float32Array.from(sparse.weight, Math.abs).sort().at(-1) ?? 1) / 127;
  const rowStart = new Uint32Array(F + 1);
  const cls: number[] = [];
  const weight: number[] = [];
  for (let f = 0; f < F; f++) {
    for (let e = sparse.rowStart[f] ?? 0; e < (sparse.rowStart[f + 1] ?? 0); e++) {
      const q = Math.round((sparse.weight[e] ?? 0) / scale);
      if (q === 0) continue;
      cls.push(sparse.entryClass[e] ?? 0);
      weight.push(q);
    }
    rowStart[f + 1] = cls.length;
  }
  return { scale, rowStart, entryClass: Uint8Array.from(cls), entryWeight: Int8Array.from(weight) };
}

export interface ThresholdChoice {
  threshold: number;
  inScopeAccuracy: number;
  oosRecall: number;
}

interface Scored {
  label: string;
  intent: string | null;
  confidence: number;
  oosWins: boolean;
}

function scoreForThreshold(model: IntentModel, xs: readonly Example[]): Scored[] {
  const oos = model.labels.indexOf(model.header.outOfScope);
  return xs.map((x) => {
    const p = model.probabilities(x.text);
    if (p === null) return { label: x.label, intent: null, confidence: 0, oosWins: true };
    let best = -1;
    for (let c = 0; c < p.length; c++) if (c !== oos && (best < 0 || (p[c] ?? 0) > (p[best] ?? 0))) best = c;
    const confidence = p[best] ?? 0;
    return { label: x.label, intent: model.labels[best] ?? null, confidence, oosWins: (p[oos] ?? 0) >= confidence };
  });
}

/**
 * The lowest threshold whose out-of-scope recall on the given split reaches minOosRecall: out-of-scope recall
 * is a floor the product needs (a wrong topic is worse than none), and every step above it costs in-scope
 * accuracy.
 */
export function tuneThreshold(
  model: IntentModel,
  inScope: readonly Example[],
  oos: readonly Example[],
  minOosRecall: number,
): ThresholdChoice {
  const ins = scoreForThreshold(model, inScope);
  const outs = scoreForThreshold(model, oos);
  let choice: ThresholdChoice | undefined;
  for (let step = 0; step <= 95 && choice === undefined; step++) {
    const threshold = step / 100;
    const accepted = (s: Scored) => !s.oosWins && s.confidence >= threshold;
    const oosRecall = outs.filter((s) => !accepted(s)).length / outs.length;
    const inScopeAccuracy = ins.filter((s) => accepted(s) && s.intent === s.label).length / ins.length;
    if (oosRecall >= minOosRecall) choice = { threshold, inScopeAccuracy, oosRecall };
  }
  if (choice === undefined) throw new Error(`no threshold reaches out-of-scope recall ${minOosRecall} on validation`);
  return choice;
}

export function bagsOf(xs: readonly Example[]) {
  return xs.map((x) => countHashes(ngramHashes(words(x.text))));
}

interface Prepared {
  data: IntentData;
  heldOut: Example[];
  examples: Example[];
  labels: string[];
  vocab: Vocabulary;
  vectors: Vector[];
  targets: Int32Array;
}

/** The training texts as vectors, with the labels in a fixed order. */
export function prepare(options: { data?: string; holdout?: boolean; settings?: Readonly<Settings> } = {}): Prepared {
  const settings = options.settings ?? SETTINGS;
  const data = loadIntentData(options.data ?? dataDir());
  const heldOut = options.holdout ? data.bankingTrain.filter((_, i) => i % 10 === 9) : [];
  const bankingTrain = options.holdout ? data.bankingTrain.filter((_, i) => i % 10 !== 9) : data.bankingTrain;
  const supplement = supplementExamples();
  const examples = [...data.clincTrain, ...data.oosTrain, ...bankingTrain, ...supplement];
  // Labels in a fixed order: CLINC150 intents, Banking77 intents, livecalls' own, out-of-scope last.
  const labels = [
    ...[...new Set(data.clincTrain.map((x) => x.label))].sort(),
    ...[...new Set(data.bankingTrain.map((x) => x.label))].sort(),
    ...[...new Set(supplement.map((x) => x.label))].sort(),
    OUT_OF_SCOPE,
  ];
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const bags = bagsOf(examples);
  const vocab = buildVocabulary(bags, settings.minDf);
  const vectors = bags.map((bag) => vectorise(bag, vocab));
  const targets = Int32Array.from(examples.map((x) => labelIndex.get(x.label) ?? 0));
  return { data, heldOut, examples, labels, vocab, vectors, targets };
}

/** Mean number of weight entries a prediction reads per text: the work per turn, independent of the machine. */
export function entriesPerText(model: IntentModel, xs: readonly Example[]): number {
  const { rowStart } = model.arrays;
  let total = 0;
  for (const x of xs) {
    const rows = new Set<number>();
    for (const h of ngramHashes(words(x.text))) rows.add(model.rowOf(h));
    rows.delete(-1);
    for (const r of rows) total += (rowStart[r + 1] ?? 0) - (rowStart[r] ?? 0);
  }
  return total / xs.length;
}

/** Prune, retrain, quantise and tune the threshold of trained dense weights; the model file. */
export function finish(
  prepared: Prepared,
  dense: { W: Float32Array; b: Float64Array },
  settings: Readonly<Settings>,
  log: (line: string) => void,
): Buffer {
  const { data, heldOut, examples, labels, vocab, vectors, targets } = prepared;
  const F = vocab.hashes.length;
  const C = labels.length;
  const pruned = prune(dense.W, F, C, vocab.idf, settings);
  const refit = settings.retrainEpochs > 0 ? retrain(vectors, targets, pruned, dense.b, settings, log) : { sparse: pruned, b: dense.b };
  const q = quantise(refit.sparse);
  log(`kept ${q.entryClass.length} of ${F * C} weights (${((100 * q.entryClass.length) / (F * C)).toFixed(1)} %)`);
  const header: IntentModelHeader = {
    labels,
    outOfScope: OUT_OF_SCOPE,
    threshold: 0,
    scale: q.scale,
    features: F,
    entries: q.entryClass.length,
    meta: {},
  };
  const arrays = { hashes: vocab.hashes, idf: vocab.idf, bias: Float32Array.from(refit.b), ...q };
  const untuned = IntentModel.fromBuffer(encodeModel(header, arrays));
  const choice = tuneThreshold(untuned, data.clincVal, data.oosVal, settings.minOosRecall);
  log(
    `threshold ${choice.threshold} on CLINC150 val: in-scope accuracy ${choice.inScopeAccuracy.toFixed(4)}, ` +
      `out-of-scope recall ${choice.oosRecall.toFixed(4)}; ` +
      `${entriesPerText(untuned, [...data.clincVal, ...data.oosVal]).toFixed(0)} weight entries read per validation text`,
  );
  const tuned: IntentModelHeader = {
    ...header,
    threshold: choice.threshold,
    meta: { ngrams: NGRAMS, settings, sources: [CLINC, BANKING77, SUPPLEMENT_PREFIX], validation: choice, trainingTexts: examples.length },
  };
  const buf = encodeModel(tuned, arrays);
  if (heldOut.length > 0) {
    const model = IntentModel.fromBuffer(buf);
    const right = heldOut.filter((x) => model.predict(x.text, 1).intent === x.label).length;
    log(`Banking77 held-out training texts: accuracy ${(right / heldOut.length).toFixed(4)} (n=${heldOut.length})`);
  }
  return buf;
}

export function train(
  options: { data?: string; holdout?: boolean; settings?: Readonly<Settings>; log?: (line: string) => void } = {},
): Buffer {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = options.settings ?? SETTINGS;
  const prepared = prepare({ ...options, settings });
  const F = prepared.vocab.hashes.length;
  const C = prepared.labels.length;
  log(`${prepared.examples.length} training texts, ${C} classes, ${F} n-gram features`);
  const dense = trainSoftmax(prepared.vectors, prepared.targets, F, C, settings, log);
  return finish(prepared, dense, settings, log);
}

/** `--set name=value` overrides of SETTINGS. */
export function withOverrides(base: Readonly<Settings>, overrides: readonly string[]): Settings {
  const settings: Settings = { ...base };
  for (const item of overrides) {
    const [name = '', value = ''] = item.split('=');
    if (!(name in settings) || value.trim() === '' || !Number.isFinite(Number(value))) {
      throw new Error(`--set ${item}: expected NAME=NUMBER with NAME one of ${Object.keys(settings).join(', ')}`);
    }
    settings[name as keyof Settings] = Number(value);
  }
  return settings;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      holdout: { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const settings = withOverrides(SETTINGS, values.set);
  const buf = train({ data: values.data, holdout: values.holdout, settings });
  const out = values.out ?? fileURLToPath(MODEL_FILE);
  writeFileSync(out, buf);
  console.log(`wrote ${out} (${(buf.length / 1e6).toFixed(2)} MB)`);
}
