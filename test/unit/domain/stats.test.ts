/** Fleet statistics against a brute-force count, second by second, on random calls. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeStats, StatColumns, type StatCall } from '../../../src/domain/stats.ts';

const S = 1000;
const FROM = 1_800_000_000 * S - ((1_800_000_000 * S) % 60_000);
const BUCKET = 60_000;
const BUCKETS = 6;
const TO = FROM + BUCKETS * BUCKET;

const callArb = fc
  .record({
    start: fc.integer({ min: -200, max: BUCKETS * 60 + 30 }),
    length: fc.integer({ min: 0, max: 400 }),
    active: fc.boolean(),
    agent: fc.constantFrom('a', 'b', 'c'),
    sentiment: fc.constantFrom('positive' as const, 'neutral' as const, 'negative' as const),
    transfer: fc.boolean(),
  })
  .map((r): StatCall => ({
    startedAt: FROM + r.start * S,
    endedAt: r.active ? null : FROM + (r.start + r.length) * S,
    agent: r.agent,
    sentiment: r.sentiment,
    transferRequested: r.transfer,
  }));

function nearestRank(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.ceil(p * sorted.length) - 1] ?? null) : null;
}

function outcomesOf(ended: StatCall[]) {
  const d = ended.map((c) => ((c.endedAt as number) - c.startedAt) / 1000);
  const mix = { positive: 0, neutral: 0, negative: 0 };
  for (const c of ended) mix[c.sentiment]++;
  return {
    durationP50: nearestRank(d, 0.5),
    durationP90: nearestRank(d, 0.9),
    transferRate: ended.length ? ended.filter((c) => c.transferRequested).length / ended.length : null,
    sentiment: mix,
  };
}

function bruteForce(calls: StatCall[], now: number) {
  const level = (t: number) =>
    calls.filter((c) => {
      const end = c.endedAt ?? Math.max(now, c.startedAt);
      return c.startedAt <= t && t < end;
    }).length;
  const inRange = (t: number | null, a: number, b: number) => t !== null && t >= a && t < b;
  let peak = 0;
  let peakAt: number | null = null;
  const buckets = [];
  for (let b = FROM; b < TO; b += BUCKET) {
    let bucketPeak = 0;
    let area = 0;
    const lived = Math.min(b + BUCKET, Math.max(now, b)) - b;
    for (let t = b; t < b + BUCKET; t += S) {
      const n = level(t);
      bucketPeak = Math.max(bucketPeak, n);
      if (n > peak) [peak, peakAt] = [n, t];
      if (t < b + lived) area += n * S;
    }
    const ended = calls.filter((c) => inRange(c.endedAt, b, b + BUCKET));
    buckets.push({
      start: b,
      concurrencyPeak: bucketPeak,
      concurrencyAvg: lived > 0 ? area / lived : 0,
      started: calls.filter((c) => inRange(c.startedAt, b, b + BUCKET)).length,
      ended: ended.length,
      ...outcomesOf(ended),
    });
  }
  const started = calls.filter((c) => inRange(c.startedAt, FROM, TO));
  const ended = calls.filter((c) => inRange(c.endedAt, FROM, TO));
  const agents = [...new Set([...started, ...ended].map((c) => c.agent))].map((agent) => ({
    agent,
    calls: started.filter((c) => c.agent === agent).length,
    ...outcomesOf(ended.filter((c) => c.agent === agent)),
  }));
  return { buckets, totals: { calls: started.length, concurrencyPeak: peak, concurrencyPeakAt: peakAt, ...outcomesOf(ended) }, agents };
}

describe('fleet statistics', () => {
  it('match a second-by-second count on random calls, active ones counted up to now', () => {
    fc.assert(
      fc.property(fc.array(callArb, { maxLength: 25 }), fc.integer({ min: -30, max: BUCKETS * 60 + 60 }), (raw, nowS) => {
        const calls = raw.map((c, i) => ({ ...c, id: `c${i}` }));
        const now = FROM + nowS * S;
        const got = computeStats(StatColumns.of(calls), FROM, TO, BUCKET, now);
        const want = bruteForce(calls, now);
        expect(got.buckets.map((b) => ({ ...b, concurrencyAvg: Math.round(b.concurrencyAvg * 1e9) }))).toEqual(
          want.buckets.map((b) => ({ ...b, concurrencyAvg: Math.round(b.concurrencyAvg * 1e9) })),
        );
        expect(got.totals).toEqual(want.totals);
        const byName = (a: { agent: string }, b: { agent: string }) => (a.agent < b.agent ? -1 : 1);
        expect([...got.agents].sort(byName)).toEqual(want.agents.sort(byName));
      }),
      { numRuns: 300 },
    );
  });

  it('counts calls back to back as never overlapping, and a peak at its first instant', () => {
    const call = (start: number, end: number): StatCall => ({
      startedAt: FROM + start * S,
      endedAt: FROM + end * S,
      agent: 'a',
      sentiment: 'neutral',
      transferRequested: false,
    });
    const s = computeStats(StatColumns.of([call(0, 30), call(30, 90), call(40, 50)]), FROM, TO, BUCKET, TO);
    expect(s.buckets[0]).toMatchObject({ concurrencyPeak: 2, started: 3, ended: 2 });
    expect(s.buckets[0]?.concurrencyAvg).toBeCloseTo((30 + 30 + 10) / 60);
    expect(s.totals).toMatchObject({ calls: 3, concurrencyPeak: 2, concurrencyPeakAt: FROM + 40 * S, durationP50: 30, durationP90: 60 });
  });
});
