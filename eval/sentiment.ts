/**
 * Sentiment section of `npm run eval`: livecalls' per-turn model against baselines run here, on public test
 * sets it was not trained on.
 *
 * Gold labels:
 * - GoEmotions test, sentiment grouping with ambiguous counted as neutral; a comment whose labels fall in more
 *   than one class (e.g. one rater's "joy" and another's "anger", 6 % of the split) has no single answer and
 *   is left out.
 * - VADER ground truth: mean human rating >= +0.5 positive, <= -0.5 negative, else neutral (ratings -4..+4).
 *   These sets are evaluation only; the VADER lexicon was validated on them, so VADER is flattered here.
 * Baselines: the majority class of each set's gold labels (an oracle about the set: an upper bound for
 * "always say X"), VADER (`vader-sentiment`, compound >= 0.05 / <= -0.05), and AFINN-165 through the
 * `sentiment` package (score > 0 / < 0) when that package is installed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SentimentIntensityAnalyzer } from 'vader-sentiment';
import { conversationSentiment } from '../src/analysis/sentiment.ts';
import { type Label, LABELS, type Scores, score } from './metrics.ts';

interface Example {
  text: string;
  gold: Label;
}

const GROUP_TO_LABEL: Readonly<Record<string, Label>> = { '0': 'neutral', '1': 'negative', '2': 'neutral', '3': 'positive' };

function goEmotionsTest(dataDir: string): Example[] {
  return readFileSync(join(dataDir, 'goemotions', 'group', 'test.tsv'), 'utf8')
    .split('\n')
    .flatMap((line) => {
      const [text, ids] = line.split('\t');
      if (text === undefined || ids === undefined) return [];
      const labels = new Set(ids.split(',').map((id) => GROUP_TO_LABEL[id]));
      const [only] = labels;
      return labels.size === 1 && only !== undefined ? [{ text, gold: only }] : [];
    });
}

function vaderSet(dataDir: string, file: string): Example[] {
  return readFileSync(join(dataDir, 'vader-groundtruth', file), 'utf8')
    .split(/\r?\n/)
    .flatMap((line) => {
      const [, rating, ...rest] = line.split('\t');
      const mean = Number(rating);
      const text = rest.join('\t');
      if (rating === undefined || Number.isNaN(mean) || text === '') return [];
      return [{ text, gold: mean >= 0.5 ? 'positive' : mean <= -0.5 ? 'negative' : 'neutral' } as Example];
    });
}

type Predictor = (text: string) => Label;
/** A signed reading of a text: > 0 positive, < 0 negative, 0 no lean. */
type Polarity = (text: string) => number;

function bySign(value: number, threshold: number): Label {
  return value >= threshold ? 'positive' : value <= -threshold ? 'negative' : 'neutral';
}

const vaderPolarity: Polarity = (text) => SentimentIntensityAnalyzer.polarity_scores(text).compound;
const vader: Predictor = (text) => bySign(vaderPolarity(text), 0.05);

/** AFINN's score through the `sentiment` package, or undefined when it is not installed (it is not a dependency). */
function loadAfinn(): Polarity | undefined {
  try {
    const require = createRequire(import.meta.url);
    const Sentiment = require('sentiment') as new () => { analyze(text: string): { score: number } };
    const analyzer = new Sentiment();
    return (text) => analyzer.analyze(text).score;
  } catch {
    return undefined;
  }
}

function majority(examples: readonly Example[]): Label {
  const counts = new Map<Label, number>();
  for (const e of examples) counts.set(e.gold, (counts.get(e.gold) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'neutral';
}

function pct(x: number): string {
  return (100 * x).toFixed(1).padStart(5);
}

function confusionLines(s: Scores): string[] {
  return [
    `      gold \\ predicted   ${LABELS.map((l) => l.padStart(8)).join(' ')}`,
    ...LABELS.map((l, i) => `      ${l.padEnd(19)} ${(s.confusion[i] ?? []).map((v) => String(v).padStart(8)).join(' ')}`),
  ];
}

export function runSentimentEval(dataDir: string): void {
  const sets: [string, Example[]][] = [
    ['GoEmotions test', goEmotionsTest(dataDir)],
    ['VADER tweets', vaderSet(dataDir, 'tweets_GroundTruth.txt')],
    ['VADER movie reviews', vaderSet(dataDir, 'movieReviewSnippets_GroundTruth.txt')],
    ['VADER Amazon reviews', vaderSet(dataDir, 'amazonReviewSnippets_GroundTruth.txt')],
    ['VADER NYT editorials', vaderSet(dataDir, 'nytEditorialSnippets_GroundTruth.txt')],
  ];
  const vaderAll = sets.slice(1).flatMap(([, e]) => e);
  sets.push(['VADER sets pooled', vaderAll]);
  const afinnPolarity = loadAfinn();
  const afinn: Predictor | undefined = afinnPolarity && ((text) => bySign(afinnPolarity(text), 1));
  // What the API answers for a call whose only turn is this text (the per-turn model, its overrides and any
  // signal the text fires), not the bare model: that is what a client sees.
  const single = (text: string) => conversationSentiment([{ role: 'customer', content: text, at: 0 }]);
  const livecalls: Predictor = (text) => single(text).label;

  console.log('## Sentiment per text (3 classes): accuracy / macro-F1, %\n');
  console.log('| set | n | livecalls | majority class | AFINN (`sentiment`) | VADER (`vader-sentiment`) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const confusions: string[] = [];
  for (const [name, examples] of sets) {
    const gold = examples.map((e) => e.gold);
    const run = (p: Predictor): Scores =>
      score(
        gold,
        examples.map((e) => p(e.text)),
      );
    const mine = run(livecalls);
    const major = majority(examples);
    const cells = [mine, run(() => major), afinn ? run(afinn) : undefined, run(vader)].map((s) =>
      s ? `${pct(s.accuracy)} / ${pct(s.macroF1)}` : 'not installed',
    );
    console.log(`| ${name} | ${examples.length} | ${cells.join(' | ')} |`);
    confusions.push(`  ${name} (livecalls):`, ...confusionLines(mine));
  }
  console.log('\nConfusion matrices (rows gold, columns predicted):');
  for (const line of confusions) console.log(line);

  // The VADER sets call a text neutral only when its mean rating is within ±0.5 of 0 (ratings −4..+4): a
  // reading of valence, where GoEmotions' neutral is "no emotion expressed". This table sets the neutral band
  // aside and asks only which way each polar text leans: the share of texts rated ≥ +0.5 or ≤ −0.5 whose
  // score has the right sign (a score of 0 counts as wrong).
  console.log('\n## Polarity of the polar texts (gold positive or negative): score of the right sign, %\n');
  console.log('| set | n | livecalls | AFINN (`sentiment`) | VADER (`vader-sentiment`) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, examples] of sets) {
    const polar = examples.filter((e) => e.gold !== 'neutral');
    const right = (p: Polarity): string => {
      const n = polar.filter((e) => Math.sign(p(e.text)) === (e.gold === 'positive' ? 1 : -1)).length;
      return pct(polar.length === 0 ? 0 : n / polar.length);
    };
    const cells = [right((text) => single(text).score), afinnPolarity ? right(afinnPolarity) : 'not installed', right(vaderPolarity)];
    console.log(`| ${name} | ${polar.length} | ${cells.join(' | ')} |`);
  }
}
