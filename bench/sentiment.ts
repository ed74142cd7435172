/**
 * `npm run bench:sentiment [-- DATA_DIR]`: microseconds per turn of the per-turn sentiment model against VADER
 * (`vader-sentiment`, the scorer it replaced) measured in the same run on the same texts. The texts are
 * GoEmotions dev comments and CLINC150 validation requests (DATA_DIR defaults to ../shared/data): short
 * turns, like a call's. Each scorer is warmed up first, then timed over several rounds; the best round counts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SentimentIntensityAnalyzer } from 'vader-sentiment';
import { classifyTurn } from '../src/analysis/sentiment-model/model.ts';

const dataDir = resolve(process.argv[2] ?? '../shared/data');
const comments = readFileSync(join(dataDir, 'goemotions', 'group', 'dev.tsv'), 'utf8')
  .split('\n')
  .map((line) => line.split('\t')[0] ?? '')
  .filter((t) => t !== '');
const clinc = JSON.parse(readFileSync(join(dataDir, 'clinc150', 'data_full.json'), 'utf8')) as Record<string, [string, string][]>;
const texts = [...comments, ...(clinc['val'] ?? []).map(([t]) => t)];

function microsPerTurn(score: (text: string) => number): number {
  let sink = 0;
  for (const t of texts) sink += score(t);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (const t of texts) sink += score(t);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / texts.length);
  }
  if (Number.isNaN(sink)) console.log('');
  return best;
}

const vader = microsPerTurn((t) => SentimentIntensityAnalyzer.polarity_scores(t).compound);
const model = microsPerTurn((t) => classifyTurn(t).score);
const words = texts.reduce((n, t) => n + t.split(/\s+/).length, 0) / texts.length;
console.log(`${texts.length} texts, ${words.toFixed(1)} words on average`);
console.log('| scorer | µs per turn | vs VADER |');
console.log('|---|---:|---:|');
console.log(`| VADER (vader-sentiment) | ${vader.toFixed(2)} | 1.00 |`);
console.log(`| livecalls model | ${model.toFixed(2)} | ${(model / vader).toFixed(2)} |`);
