/**
 * The intent model on the public test splits, against a baseline computed in the same run.
 *
 *   npx tsx eval/intent.ts            (data from ../shared/data, or LIVECALLS_DATA)
 *
 * How the combined model is scored, since it knows CLINC150's and Banking77's intents at once:
 * - "livecalls" is the model as shipped: best intent over all 234 intents (including livecalls' own, supplement.ts), out of scope when the out-of-scope
 *   class wins or the best probability is under the tuned threshold. A CLINC150 text answered with the
 *   Banking77 twin of its intent counts as wrong here.
 * - "livecalls, own labels" keeps the same out-of-scope decision but takes the best intent among the test set's
 *   own labels only: the figure comparable with single-data-set results in the literature.
 * - "topic" is what the wallboard shows: the topic decided on summed intent probabilities (predictTopic in
 *   topics.ts), right when it is the gold intent's topic, "no topic" included (small talk has no topic, and
 *   neither should an out-of-scope text: "oos -> no topic" is the share of oos_test that names no topic).
 * - The majority-class baseline always answers the most frequent training intent of the data set.
 * CLINC150 in-scope accuracy is over its 4,500 in-scope test texts (an out-of-scope answer is wrong),
 * out-of-scope recall over its 1,000 oos_test texts; macro-F1 is over the in-scope intents plus out-of-scope.
 */
import { fileURLToPath } from 'node:url';
import { type Example, OUT_OF_SCOPE, loadIntentData } from '../src/analysis/intent/data.ts';
import { type IntentModel, intentModel } from '../src/analysis/intent/model.ts';
import { predictTopic, topicOf } from '../src/analysis/intent/topics.ts';

const NONE = OUT_OF_SCOPE;

function macroF1(gold: readonly string[], predicted: readonly string[]): number {
  const classes = new Set(gold);
  let sum = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (g === c && p === c) tp++;
      else if (p === c) fp++;
      else if (g === c) fn++;
    });
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / classes.size;
}

function accuracy(gold: readonly string[], predicted: readonly string[]): number {
  return gold.filter((g, i) => predicted[i] === g).length / gold.length;
}

function majority(train: readonly Example[]): string {
  const counts = new Map<string, number>();
  for (const x of train) counts.set(x.label, (counts.get(x.label) ?? 0) + 1);
  return [...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))[0]?.[0] ?? NONE;
}

interface Predictions {
  shipped: string[];
  ownLabels: string[];
  topics: string[];
}

function predictAll(model: IntentModel, xs: readonly Example[], prefix: string): Predictions {
  const oos = model.labels.indexOf(model.header.outOfScope);
  const shipped: string[] = [];
  const ownLabels: string[] = [];
  const topics: string[] = [];
  for (const x of xs) {
    topics.push(predictTopic(model, x.text)?.topic ?? NO_TOPIC);
    const prediction = model.predict(x.text, 1);
    shipped.push(prediction.intent ?? NONE);
    const p = model.probabilities(x.text);
    let best = -1;
    if (p !== null) {
      for (let c = 0; c < p.length; c++) {
        if (c !== oos && (model.labels[c] ?? '').startsWith(prefix) && (best < 0 || (p[c] ?? 0) > (p[best] ?? 0))) best = c;
      }
    }
    ownLabels.push(prediction.intent === null || best < 0 ? NONE : (model.labels[best] ?? NONE));
  }
  return { shipped, ownLabels, topics };
}

const NO_TOPIC = '(no topic)';
const topicName = (intent: string) => (intent === NONE ? NO_TOPIC : (topicOf(intent) ?? NO_TOPIC));
const f = (x: number) => x.toFixed(3);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

function topConfusions(gold: readonly string[], predicted: readonly string[], n: number): string {
  const counts = new Map<string, number>();
  gold.forEach((g, i) => {
    const p = predicted[i] ?? NONE;
    if (p !== g) counts.set(`${g} -> ${p}`, (counts.get(`${g} -> ${p}`) ?? 0) + 1);
  });
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, n)
    .map(([pair, k]) => `  ${String(k).padStart(3)}  ${pair}`)
    .join('\n');
}

export async function evalIntent(): Promise<string> {
  const data = loadIntentData();
  const model = intentModel();
  const out: string[] = [];

  // CLINC150: in-scope test + oos_test
  const clinc = [...data.clincTest, ...data.oosTest];
  const clincGold = clinc.map((x) => x.label);
  const cp = predictAll(model, clinc, 'clinc:');
  const clincMajority = majority(data.clincTrain);
  const inScope = (xs: readonly string[]) => xs.slice(0, data.clincTest.length);
  const oosPart = (xs: readonly string[]) => xs.slice(data.clincTest.length);
  const oosRecall = (xs: readonly string[]) => oosPart(xs).filter((p) => p === NONE).length / data.oosTest.length;
  const topicAcc = (gold: readonly string[], topics: readonly string[]) =>
    gold.filter((g, i) => topicName(g) === topics[i]).length / gold.length;
  const noTopic = (topics: readonly string[]) => topics.filter((t) => t === NO_TOPIC).length / topics.length;
  const clincRows = (name: string, pred: readonly string[], topics: readonly string[]) => [
    name,
    f(accuracy(inScope(clincGold), inScope(pred))),
    f(oosRecall(pred)),
    f(macroF1(clincGold, pred)),
    f(topicAcc(inScope(clincGold), inScope(topics))),
    f(noTopic(oosPart(topics))),
  ];
  out.push(
    `CLINC150 test (${data.clincTest.length} in-scope + ${data.oosTest.length} out-of-scope; threshold ${model.header.threshold} tuned on val)`,
    table([
      ['model', 'in-scope acc', 'oos recall', 'macro-F1', 'topic acc', 'oos -> no topic'],
      clincRows('livecalls', cp.shipped, cp.topics),
      clincRows('livecalls, own labels', cp.ownLabels, cp.topics),
      clincRows(
        'majority class',
        clinc.map(() => clincMajority),
        clinc.map(() => topicName(clincMajority)),
      ),
    ]),
    '',
  );

  // Banking77 test
  const bankingGold = data.bankingTest.map((x) => x.label);
  const bp = predictAll(model, data.bankingTest, 'banking77:');
  const bankingMajority = majority(data.bankingTrain);
  const bankingRows = (name: string, pred: readonly string[], topics: readonly string[]) => [
    name,
    f(accuracy(bankingGold, pred)),
    f(macroF1(bankingGold, pred)),
    f(topicAcc(bankingGold, topics)),
    f(pred.filter((p) => p === NONE).length / pred.length),
  ];
  out.push(
    `Banking77 test (${data.bankingTest.length} texts)`,
    table([
      ['model', 'accuracy', 'macro-F1', 'topic acc', 'rejected'],
      bankingRows('livecalls', bp.shipped, bp.topics),
      bankingRows('livecalls, own labels', bp.ownLabels, bp.topics),
      bankingRows(
        'majority class',
        data.bankingTest.map(() => bankingMajority),
        data.bankingTest.map(() => topicName(bankingMajority)),
      ),
    ]),
    '',
  );

  // Intent-level matrices would be 150 and 77 wide; the most frequent confusions say more.
  const allGold = [...clincGold, ...bankingGold];
  const allPred = [...cp.shipped, ...bp.shipped];
  out.push('Most frequent intent confusions (gold -> predicted), both test sets:', topConfusions(allGold, allPred, 12), '');
  out.push(
    'Most frequent topic confusions (gold -> predicted), both test sets:',
    topConfusions(allGold.map(topicName), [...cp.topics, ...bp.topics], 12),
  );
  return out.join('\n');
}

/** The `npm run eval` section: the data folder it is given wins over LIVECALLS_DATA. */
export async function runIntentEval(dataDir: string): Promise<void> {
  process.env.LIVECALLS_DATA = dataDir;
  console.log(await evalIntent());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await evalIntent());
}
