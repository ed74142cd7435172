/**
 * Per-turn cost of topics, printed against a baseline measured in the same run (tests never assert speed).
 *
 *   npx tsx bench/intent.ts [--rounds N]
 *
 * Turns are the public test texts of CLINC150 and Banking77 (real requests, 2-30 words). The baseline is the
 * cheapest thing any per-turn analysis must do: lowercase the text and split it into words. The target is
 * 50 µs per turn for topics (the model's prediction plus sentence splitting and filler checks). Figures are CPU
 * time per turn (median of the rounds), single-threaded.
 */
import { parseArgs } from 'node:util';
import { words } from '../src/analysis/intent/features.ts';
import { loadIntentData } from '../src/analysis/intent/data.ts';
import { intentModel } from '../src/analysis/intent/model.ts';
import { extractTopics } from '../src/analysis/insights.ts';
import type { Turn } from '../src/analysis/types.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

const data = loadIntentData();
const texts = [...data.clincTest, ...data.oosTest, ...data.bankingTest].map((x) => x.text);
const turns: Turn[] = texts.map((content, i) => ({ role: 'customer', content, at: i }));
const model = intentModel(); // loaded outside the timed loops: start-up is paid once per process

let sink = 0;
function time(name: string, run: () => void): number {
  run(); // warm-up: JIT and caches
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // CPU time of this process, not wall time: on a shared machine the wall clock also counts the time the
    // scheduler gave to other processes, which says nothing about the cost of a turn.
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / texts.length);
  }
  samples.sort((a, b) => a - b);
  const median = samples[samples.length >> 1] ?? 0;
  console.log(`${name.padEnd(40)} ${median.toFixed(2).padStart(8)} µs/turn`);
  return median;
}

const baseline = time('baseline: lowercase + split words', () => {
  for (const t of texts) sink += words(t).length;
});
const predict = time('intent model: one prediction', () => {
  for (const t of texts) sink += model.predict(t, 1).confidence;
});
const topics = time('topics of a turn (extractTopics)', () => {
  for (const t of turns) sink += extractTopics([t]).length;
});
const words_ = texts.reduce((n, t) => n + words(t).length, 0) / texts.length;
console.log(`\n${texts.length} turns, ${words_.toFixed(1)} words on average, median of ${rounds} rounds`);
console.log(`intent model: ${(predict / baseline).toFixed(1)}x baseline; topics: ${(topics / baseline).toFixed(1)}x baseline`);
console.log(`topics per turn: ${topics.toFixed(1)} µs (target ≤ 50 µs): ${topics <= 50 ? 'pass' : 'miss'}`);
if (sink === -1) console.log(sink); // keeps the work observable
