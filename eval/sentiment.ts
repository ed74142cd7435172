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

function bySign(value: number, threshold: number): Label {
  return value >= threshold ? 'positive' : value <= -threshold ? 'negative' : 'neutral';
}

const vader: Predictor = (text) => bySign(SentimentIntensityAnalyzer.polarity_scores(text).compound, 0.05);

/** AFINN through the `sentiment` package, or undefined when it is not installed (it is not a dependency). */
function loadAfinn(): Predictor | undefined {
  try {
    const require = createRequire(import.meta.url);
    const Sentiment = require('sentiment') as new () => { analyze(text: string): { score: number } };
    const analyzer = new Sentiment();
    return (text) => {
      const s = analyzer.analyze(text).score;
      return s > 0 ? 'positive' : s < 0 ? 'negative' : 'neutral';
    };
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
  const afinn = loadAfinn();
  // What the API answers for a call whose only turn is this text (the per-turn model, its overrides and any
  // signal the text fires), not the bare model: that is what a client sees.
  const livecalls: Predictor = (text) => conversationSentiment([{ role: 'customer', content: text, at: 0 }]).label;

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
}
