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
import type { Sentiment } from './call.ts';

export type BucketName = '1m' | '5m' | '1h' | '1d';
export const BUCKET_MS: Record<BucketName, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

/** One call, as the statistics read it (the stores hand them over as `StatColumns`). */
export interface StatCall {
  startedAt: number;
  /** null while active */
  endedAt: number | null;
  agent: string;
  sentiment: Sentiment;
  transferRequested: boolean;
}

const SENTIMENT_CODES: readonly Sentiment[] = ['neutral', 'positive', 'negative'];
const CODE_OF: Record<Sentiment, number> = { neutral: 0, positive: 1, negative: 2 };
const TRANSFER_BIT = 4;

/** A call's sentiment and transfer in one small number, as the stores may read it: sentiment code | transfer bit. */
export function statFlags(sentiment: Sentiment, transferRequested: boolean): number {
  return CODE_OF[sentiment] | (transferRequested ? TRANSFER_BIT : 0);
}

/**
 * Calls in columns, one typed array per field: what the statistics fold. Why not objects: a busy day is ten
 * thousand calls, read on every statistics request, and an object per call (then its garbage) cost more than
 * the database's own work. `endedAt` is NaN for an active call; `agent` indexes `agents`.
 */
export class StatColumns {
  length = 0;
  startedAt: Float64Array;
  endedAt: Float64Array;
  agent: Uint32Array;
  flags: Uint8Array;
  readonly agents: string[] = [];
  private readonly agentIds = new Map<string, number>();

  constructor(capacity = 64) {
    const size = Math.max(1, capacity);
    this.startedAt = new Float64Array(size);
    this.endedAt = new Float64Array(size);
    this.agent = new Uint32Array(size);
    this.flags = new Uint8Array(size);
  }

  static of(calls: readonly StatCall[]): StatColumns {
    const cols = new StatColumns(calls.length);
    for (const c of calls) cols.push(c.startedAt, c.endedAt, c.agent, statFlags(c.sentiment, c.transferRequested));
    return cols;
  }

  push(startedAt: number, endedAt: number | null, agent: string, flags: number): void {
    if (this.length === this.startedAt.length) this.grow();
    const i = this.length++;
    this.startedAt[i] = startedAt;
    this.endedAt[i] = endedAt ?? Number.NaN;
    this.agent[i] = this.agentId(agent);
    this.flags[i] = flags;
  }

  /** The index of an agent name in `agents`, added when new. */
  private agentId(name: string): number {
    let id = this.agentIds.get(name);
    if (id === undefined) {
      id = this.agents.length;
      this.agents.push(name);
      this.agentIds.set(name, id);
    }
    return id;
  }

  private grow(): void {
    const size = this.startedAt.length * 2;
    const copy = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.startedAt = copy(this.startedAt, (n) => new Float64Array(n));
    this.endedAt = copy(this.endedAt, (n) => new Float64Array(n));
    this.agent = copy(this.agent, (n) => new Uint32Array(n));
    this.flags = copy(this.flags, (n) => new Uint8Array(n));
  }
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

/** Outcomes of the calls at `ended` (indices into `cols`, every one ended). */
function outcomes(cols: StatColumns, ended: readonly number[]): Outcomes {
  // A typed array sorts numerically without a comparator call per comparison: several times faster on the
  // ten thousand calls of a busy day, which every statistics request sorts for the totals and per agent.
  const durations = new Float64Array(ended.length);
  const counts = [0, 0, 0];
  let transfers = 0;
  for (let k = 0; k < ended.length; k++) {
    const i = ended[k] as number;
    durations[k] = ((cols.endedAt[i] as number) - (cols.startedAt[i] as number)) / 1000;
    const flags = cols.flags[i] as number;
    counts[flags & 3]! += 1;
    if (flags & TRANSFER_BIT) transfers++;
  }
  durations.sort();
  const sentiment: SentimentMix = { positive: 0, neutral: 0, negative: 0 };
  SENTIMENT_CODES.forEach((name, code) => (sentiment[name] = counts[code] ?? 0));
  return {
    durationP50: percentile(durations, 0.5),
    durationP90: percentile(durations, 0.9),
    transferRate: ended.length ? transfers / ended.length : null,
    sentiment,
  };
}

/**
 * `from` and `to` are bucket-aligned (to > from); `cols` holds the calls that may overlap the range (others
 * are ignored), each once.
 */
export function computeStats(cols: StatColumns, from: number, to: number, bucketMs: number, now: number): Stats {
  const n = Math.ceil((to - from) / bucketMs);
  const buckets: StatsBucket[] = [];
  const endedIn: number[][] = [];
  for (let i = 0; i < n; i++) {
    buckets.push({ start: from + i * bucketMs, concurrencyPeak: 0, concurrencyAvg: 0, started: 0, ended: 0, ...outcomes(cols, []) });
    endedIn.push([]);
  }
  const index = (t: number) => Math.floor((t - from) / bucketMs);
  // Sweep over the starts (+1) and ends (-1) inside the range, each kept sorted; every change at one instant is
  // applied before the level is read ([start, end) intervals: a call ending as another starts never overlaps it).
  const upList: number[] = [];
  const downList: number[] = [];
  let running = 0;
  const allEnded: number[] = [];
  const byAgent = cols.agents.map(() => ({ calls: 0, ended: [] as number[] }));
  let startedInRange = 0;
  for (let i = 0; i < cols.length; i++) {
    const startedAt = cols.startedAt[i] as number;
    const endedAt = cols.endedAt[i] as number;
    const agent = byAgent[cols.agent[i] as number] as { calls: number; ended: number[] };
    if (startedAt >= from && startedAt < to) {
      const bucket = buckets[index(startedAt)];
      if (bucket) bucket.started++;
      startedInRange++;
      agent.calls++;
    }
    const active = Number.isNaN(endedAt);
    if (!active && endedAt >= from && endedAt < to) {
      endedIn[index(endedAt)]?.push(i);
      allEnded.push(i);
      agent.ended.push(i);
    }
    const end = active ? Math.max(now, startedAt) : endedAt;
    if (end <= from || startedAt >= to || end <= startedAt) continue;
    if (startedAt <= from) running++;
    else upList.push(startedAt);
    if (end < to) downList.push(end);
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
    Object.assign(bucket, outcomes(cols, endedIn[i] ?? []));
  }

  return {
    from,
    to,
    buckets,
    totals: { calls: startedInRange, concurrencyPeak: peak, concurrencyPeakAt: peak > 0 ? peakAt : null, ...outcomes(cols, allEnded) },
    agents: byAgent
      .map((a, id) => ({ agent: cols.agents[id] as string, calls: a.calls, ended: a.ended }))
      .filter((a) => a.calls > 0 || a.ended.length > 0)
      .map(({ agent, calls, ended }) => ({ agent, calls, ...outcomes(cols, ended) }))
      .sort((a, b) => b.calls - a.calls || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0)),
  };
}
