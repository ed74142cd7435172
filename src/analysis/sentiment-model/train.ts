/**
 * Trains the per-turn sentiment model and writes `weights.generated.ts` beside this file.
 *
 *   npm run train:sentiment [-- DATA_DIR]     (DATA_DIR defaults to ../shared/data)
 *
 * Multinomial logistic regression (negative / neutral / positive) over the hashed features of `features.ts`,
 * trained with AdaGrad on a fixed example order (seeded shuffle) so that the same data gives the same weights.
 * What is kept is the running average of the weights over every step so far (averaged SGD: the last steps'
 * noise cancels out, and rare features are not decided by the last comment that held them), at the epoch
 * whose average has the best macro-F1 on GoEmotions dev; the test split is never read here.
 * Data, sources and licences: README.md beside this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIALOGUE_EXAMPLES } from './dialogue-examples.ts';
import { CLASSES, featureIds, HASH_BITS, type Lexicon, parseLexicon, TABLE_SIZE } from './features.ts';
import { mulberry32, shuffleInPlace } from '../seeded-random.ts';

/** Probability mass per class (negative, neutral, positive), summing to 1. */
type Target = readonly [number, number, number];
interface Example {
  ids: number[];
  target: Target;
  weight: number;
}

// Requests are plentiful and all neutral; at full weight they would drown GoEmotions' neutral comments and pull
// every sentence towards neutral. Dialogue examples are few and each stands for a whole phrase kind.
const REQUEST_WEIGHT = 0.3;
const DIALOGUE_WEIGHT = 3;
const EPOCHS = 8;
// Chosen on GoEmotions dev with the averaged weights (0.02-0.3 tried): 0.05.
const LEARNING_RATE = 0.05;
const SEED = 20_260_101;

// GoEmotions grouping ids: 0 ambiguous, 1 negative, 2 neutral, 3 positive. Ambiguous (surprise, confusion,
// curiosity, realization) is neither pleased nor upset on a call, so it trains neutral.
const GROUP_TO_CLASS = [1, 0, 1, 2] as const;

function goEmotionsTarget(labelIds: string): Target | undefined {
  const counts = [0, 0, 0];
  const ids = labelIds.split(',').map(Number);
  for (const id of ids) {
    const cls = GROUP_TO_CLASS[id as 0 | 1 | 2 | 3];
    if (cls === undefined) return undefined;
    counts[cls] = (counts[cls] ?? 0) + 1 / ids.length;
  }
  return [counts[0] ?? 0, counts[1] ?? 0, counts[2] ?? 0];
}

function readGoEmotions(file: string): { text: string; target: Target }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const [text, labels] = line.split('\t');
      if (text === undefined || labels === undefined) return [];
      const target = goEmotionsTarget(labels);
      return target ? [{ text, target }] : [];
    });
}

// Requests that voice a complaint are left out: they are not neutral, and labelling them so would teach that
// "still waiting" and "this is terrible" carry no mood.
const COMPLAINT =
  /!|\b(ridiculous|angry|upset|terrible|awful|frustrat\w*|annoy\w*|disappoint\w*|bad|horrible|worst|unhappy|hate|furious|unacceptable|scam\w*)\b/i;

function readRequests(dataDir: string): string[] {
  const clinc = JSON.parse(readFileSync(join(dataDir, 'clinc150', 'data_full.json'), 'utf8')) as Record<string, [string, string][]>;
  // "thank_you" utterances are gratitude, which GoEmotions labels positive; they are not requests.
  const clincTexts = [...(clinc['train'] ?? []), ...(clinc['oos_train'] ?? [])]
    .filter(([, intent]) => intent !== 'thank_you')
    .map(([t]) => t);
  const banking = readFileSync(join(dataDir, 'banking77', 'train.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => {
      // text,category with the text quoted when it holds a comma; the category never does.
      const cut = line.lastIndexOf(',');
      const raw = cut < 0 ? '' : line.slice(0, cut);
      return raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
    })
    .filter((t) => t.trim() !== '');
  return [...clincTexts, ...banking].filter((t) => !COMPLAINT.test(t));
}

class Weights {
  readonly w = new Float64Array(TABLE_SIZE * 3);
  readonly bias = new Float64Array(3);
  private readonly g = new Float64Array(TABLE_SIZE * 3);
  private readonly gBias = new Float64Array(3);
  // For the average of the weights over all steps without summing the whole table at each step: every change
  // d made at step t is also added as t * d here, and the average after T steps is w - sum / T.
  private readonly stepWeighted = new Float64Array(TABLE_SIZE * 3);
  private readonly stepWeightedBias = new Float64Array(3);
  private steps = 0;

  probabilities(ids: readonly number[]): [number, number, number] {
    const z = [this.bias[0] ?? 0, this.bias[1] ?? 0, this.bias[2] ?? 0];
    for (const id of ids) for (let c = 0; c < 3; c++) z[c] = (z[c] ?? 0) + (this.w[id * 3 + c] ?? 0);
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = (e[0] ?? 0) + (e[1] ?? 0) + (e[2] ?? 0);
    return [(e[0] ?? 0) / sum, (e[1] ?? 0) / sum, (e[2] ?? 0) / sum];
  }

  step(example: Example): void {
    this.steps++;
    const p = this.probabilities(example.ids);
    for (let c = 0; c < 3; c++) {
      const grad = example.weight * ((p[c] ?? 0) - (example.target[c] ?? 0));
      if (grad === 0) continue;
      this.gBias[c] = (this.gBias[c] ?? 0) + grad * grad;
      const biasChange = (LEARNING_RATE * grad) / Math.sqrt((this.gBias[c] ?? 0) + 1e-8);
      this.bias[c] = (this.bias[c] ?? 0) - biasChange;
      this.stepWeightedBias[c] = (this.stepWeightedBias[c] ?? 0) - this.steps * biasChange;
      for (const id of example.ids) {
        const k = id * 3 + c;
        this.g[k] = (this.g[k] ?? 0) + grad * grad;
        const change = (LEARNING_RATE * grad) / Math.sqrt((this.g[k] ?? 0) + 1e-8);
        this.w[k] = (this.w[k] ?? 0) - change;
        this.stepWeighted[k] = (this.stepWeighted[k] ?? 0) - this.steps * change;
      }
    }
  }

  /** The average of the weights over every step so far, as a model of its own. */
  averaged(): Weights {
    const average = new Weights();
    const n = Math.max(1, this.steps);
    for (let k = 0; k < this.w.length; k++) average.w[k] = (this.w[k] ?? 0) - (this.stepWeighted[k] ?? 0) / n;
    for (let c = 0; c < 3; c++) average.bias[c] = (this.bias[c] ?? 0) - (this.stepWeightedBias[c] ?? 0) / n;
    return average;
  }
}

function argmax(p: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if ((p[c] ?? 0) > (p[best] ?? 0)) best = c;
  return best;
}

function macroF1(gold: readonly number[], predicted: readonly number[]): number {
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === c && g === c) tp++;
      else if (p === c) fp++;
      else if (g === c) fn++;
    });
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / 3;
}

/** Difference of each class's weights from neutral's: softmax is unchanged, and a third of the table is saved. */
function encode(weights: Weights): { scale: number; bias: [number, number]; table: string } {
  const diffs = new Float64Array(TABLE_SIZE * 2);
  for (let i = 0; i < TABLE_SIZE; i++) {
    const neutral = weights.w[i * 3 + 1] ?? 0;
    diffs[i * 2] = (weights.w[i * 3] ?? 0) - neutral;
    diffs[i * 2 + 1] = (weights.w[i * 3 + 2] ?? 0) - neutral;
  }
  let max = 0;
  for (const v of diffs) max = Math.max(max, Math.abs(v));
  const scale = max / 32_767;
  const quantised = new Int16Array(diffs.length);
  diffs.forEach((v, i) => (quantised[i] = Math.round(v / scale)));
  const neutralBias = weights.bias[1] ?? 0;
  return {
    scale,
    bias: [(weights.bias[0] ?? 0) - neutralBias, (weights.bias[2] ?? 0) - neutralBias],
    table: Buffer.from(quantised.buffer).toString('base64'),
  };
}

// The VADER lexicon as the installed vader-sentiment package ships it (MIT, C.J. Hutto).
const LEXICON_FILE = fileURLToPath(new URL('../../../node_modules/vader-sentiment/vader_lexicon.txt', import.meta.url));

/** `word valence,word valence,...`, sorted so the file only changes when the lexicon does. */
function encodeLexicon(lexicon: Lexicon): string {
  return [...lexicon]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([w, v]) => `${w} ${v}`)
    .join(',');
}

function main(): void {
  const dataDir = resolve(process.argv[2] ?? '../shared/data');
  const lexicon = parseLexicon(readFileSync(LEXICON_FILE, 'utf8'));
  const featuresOf = (text: string): number[] => featureIds(text, lexicon);
  const goTrain = readGoEmotions(join(dataDir, 'goemotions', 'group', 'train.tsv'));
  const goDev = readGoEmotions(join(dataDir, 'goemotions', 'group', 'dev.tsv')).filter((e) => Math.max(...e.target) === 1);
  const requests = readRequests(dataDir);
  const examples: Example[] = [
    ...goTrain.map((e) => ({ ids: featuresOf(e.text), target: e.target, weight: 1 })),
    ...requests.map((t) => ({ ids: featuresOf(t), target: [0, 1, 0] as const, weight: REQUEST_WEIGHT })),
    ...DIALOGUE_EXAMPLES.map(([t, label]) => ({
      ids: featuresOf(t),
      target: [label === 0 ? 1 : 0, label === 1 ? 1 : 0, label === 2 ? 1 : 0] as const,
      weight: DIALOGUE_WEIGHT,
    })),
  ];
  console.log(`examples: GoEmotions ${goTrain.length}, requests ${requests.length}, dialogue ${DIALOGUE_EXAMPLES.length}`);

  const devIds = goDev.map((e) => featuresOf(e.text));
  const devGold = goDev.map((e) => argmax(e.target));
  const random = mulberry32(SEED);
  const order = examples.map((_, i) => i);
  const weights = new Weights();
  let best: { epoch: number; f1: number; encoded: ReturnType<typeof encode> } | undefined;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    shuffleInPlace(order, random);
    for (const i of order) {
      const example = examples[i];
      if (example) weights.step(example);
    }
    const average = weights.averaged();
    const f1 = macroF1(
      devGold,
      devIds.map((ids) => argmax(average.probabilities(ids))),
    );
    console.log(`epoch ${epoch}: GoEmotions dev macro-F1 ${f1.toFixed(4)} (averaged weights)`);
    if (!best || f1 > best.f1) best = { epoch, f1, encoded: encode(average) };
  }
  if (!best) throw new Error('no epoch trained');

  const out = join(dirname(fileURLToPath(import.meta.url)), 'weights.generated.ts');
  writeFileSync(
    out,
    [
      '// Generated by `npm run train:sentiment` (src/analysis/sentiment-model/train.ts). Do not edit.',
      `// Epoch ${best.epoch}, GoEmotions dev macro-F1 ${best.f1.toFixed(4)}. Data and licences: README.md beside this file.`,
      `export const HASH_BITS = ${HASH_BITS};`,
      `export const CLASSES = [${CLASSES.map((c) => `'${c}'`).join(', ')}];`,
      `export const SCALE = ${best.encoded.scale};`,
      `export const BIAS = [${best.encoded.bias.join(', ')}];`,
      `export const LEXICON =\n  '${encodeLexicon(lexicon)}';`,
      `export const TABLE =\n  '${best.encoded.table}';`,
      '',
    ].join('\n'),
  );
  console.log(`kept epoch ${best.epoch} (dev macro-F1 ${best.f1.toFixed(4)}); wrote ${out}`);
}

main();
