/**
 * Fleet statistics over a time range, exact: concurrency comes from the calls' start and end times (a sweep
 * over their starts and ends), never from samples.
 *
 * - A call counts as in progress on [start, end); an active call on [start, now).
 * - `started` / `ended`: calls whose start / end falls in the bucket.
 * - Duration percentiles, transfer rate and sentiment mix describe the calls that ENDED in the bucket (or
 *   range): only an ended call has its final duration, sentiment and transfer. Percentiles are nearest-rank.
 * - `concurrencyAvg`: calls in progress averaged over the bucket's time, up to `now` for a bucket that `now`
 *   falls in (time not yet lived is not counted as idle).
 * Pure: the calls and `now` come in as arguments.
 */
import type { CallType, Sentiment } from './call.ts';

export type BucketName = '1m' | '5m' | '1h' | '1d';
export const BUCKET_MS: Record<BucketName, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

export interface StatCall {
  id: string;
  startedAt: number;
  /** null while active */
  endedAt: number | null;
  agent: string;
  callType: CallType;
  sentiment: Sentiment;
  transferRequested: boolean;
}

export interface SentimentMix {
  positive: number;
  neutral: number;
  negative: number;
}

export interface Outcomes {
  durationP50: number | null;
  durationP90: number | null;
  transferRate: number | null;
  sentiment: SentimentMix;
}

export interface StatsBucket extends Outcomes {
  start: number;
  concurrencyPeak: number;
  concurrencyAvg: number;
  started: number;
  ended: number;
}

export interface Stats {
  from: number;
  to: number;
  buckets: StatsBucket[];
  totals: Outcomes & { calls: number; concurrencyPeak: number; concurrencyPeakAt: number | null };
  agents: (Outcomes & { agent: string; calls: number })[];
}

/** Nearest-rank percentile of ascending `sorted` (null when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? null;
}

function outcomes(ended: readonly StatCall[]): Outcomes {
  // A typed array sorts numerically without a comparator call per comparison: several times faster on the
  // ten thousand calls of a busy day, which every statistics request sorts for the totals and per agent.
  const durations = new Float64Array(ended.length);
  for (let i = 0; i < ended.length; i++) {
    const c = ended[i] as StatCall;
    durations[i] = ((c.endedAt as number) - c.startedAt) / 1000;
  }
  durations.sort();
  const sentiment: SentimentMix = { positive: 0, neutral: 0, negative: 0 };
  let transfers = 0;
  for (const c of ended) {
    sentiment[c.sentiment]++;
    if (c.transferRequested) transfers++;
  }
  return {
    durationP50: percentile(durations, 0.5),
    durationP90: percentile(durations, 0.9),
    transferRate: ended.length ? transfers / ended.length : null,
    sentiment,
  };
}

/**
 * `from` and `to` are bucket-aligned (to > from); `calls` are those that may overlap the range (others are
 * ignored), each once.
 */
export function computeStats(calls: readonly StatCall[], from: number, to: number, bucketMs: number, now: number): Stats {
  const n = Math.ceil((to - from) / bucketMs);
  const buckets: StatsBucket[] = [];
  const endedIn: StatCall[][] = [];
  for (let i = 0; i < n; i++) {
    buckets.push({ start: from + i * bucketMs, concurrencyPeak: 0, concurrencyAvg: 0, started: 0, ended: 0, ...outcomes([]) });
    endedIn.push([]);
  }
  const index = (t: number) => Math.floor((t - from) / bucketMs);
  // Sweep over the starts (+1) and ends (-1) inside the range, each kept sorted; every change at one instant is
  // applied before the level is read ([start, end) intervals: a call ending as another starts never overlaps it).
  const upList: number[] = [];
  const downList: number[] = [];
  let running = 0;
  const allEnded: StatCall[] = [];
  const byAgent = new Map<string, { calls: number; ended: StatCall[] }>();
  let startedInRange = 0;
  for (const c of calls) {
    countStart(c);
    if (c.endedAt !== null && c.endedAt >= from && c.endedAt < to) {
      endedIn[index(c.endedAt)]?.push(c);
      allEnded.push(c);
      agentOf(c.agent).ended.push(c);
    }
    const end = c.endedAt ?? Math.max(now, c.startedAt);
    if (end <= from || c.startedAt >= to || end <= c.startedAt) continue;
    if (c.startedAt <= from) running++;
    else upList.push(c.startedAt);
    if (end < to) downList.push(end);
  }
  function agentOf(agent: string) {
    let a = byAgent.get(agent);
    if (!a) byAgent.set(agent, (a = { calls: 0, ended: [] }));
    return a;
  }
  function countStart(c: StatCall): void {
    if (c.startedAt < from || c.startedAt >= to) return;
    const bucket = buckets[index(c.startedAt)];
    if (bucket) bucket.started++;
    startedInRange++;
    agentOf(c.agent).calls++;
  }
  const ups = Float64Array.from(upList).sort();
  const downs = Float64Array.from(downList).sort();
  let u = 0;
  let d = 0;
  const nextAt = (): number => Math.min(u < ups.length ? (ups[u] as number) : Infinity, d < downs.length ? (downs[d] as number) : Infinity);
  const applyAt = (at: number): void => {
    for (; u < ups.length && ups[u] === at; u++) running++;
    for (; d < downs.length && downs[d] === at; d++) running--;
  };

  let peak = running;
  let peakAt: number | null = running > 0 ? from : null;
  for (let i = 0; i < n; i++) {
    const bucket = buckets[i] as StatsBucket;
    const start = bucket.start;
    const end = Math.min(start + bucketMs, to);
    const limit = Math.min(end, Math.max(now, start));
    const lived = limit - start;
    for (let at = nextAt(); at <= start; at = nextAt()) applyAt(at);
    let bucketPeak = running;
    if (running > peak) {
      peak = running;
      peakAt = start;
    }
    let area = 0;
    let t = start;
    for (let at = nextAt(); at < end; at = nextAt()) {
      area += running * (Math.min(at, limit) - Math.min(t, limit));
      applyAt(at);
      t = at;
      if (running > bucketPeak) bucketPeak = running;
      if (running > peak) {
        peak = running;
        peakAt = at;
      }
    }
    area += running * Math.max(0, start + lived - Math.max(t, start));
    bucket.ended = endedIn[i]?.length ?? 0;
    bucket.concurrencyPeak = bucketPeak;
    bucket.concurrencyAvg = lived > 0 ? area / lived : 0;
    Object.assign(bucket, outcomes(endedIn[i] ?? []));
  }

  return {
    from,
    to,
    buckets,
    totals: { calls: startedInRange, concurrencyPeak: peak, concurrencyPeakAt: peak > 0 ? peakAt : null, ...outcomes(allEnded) },
    agents: [...byAgent.entries()]
      .map(([agent, a]) => ({ agent, calls: a.calls, ...outcomes(a.ended) }))
      .sort((a, b) => b.calls - a.calls || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0)),
  };
}
