/**
 * Fleet statistics of a workspace (GET /v2/api/stats): the archive's calls that overlap the range plus the
 * active calls (in progress up to now), folded by domain/stats.ts. The range is bounded so a request cannot
 * ask for an unbounded number of buckets.
 */
import { callType, startedAt, type CallType } from '../domain/call.ts';
import { BUCKET_MS, computeStats, statFlags, type BucketName, type Stats } from '../domain/stats.ts';
import { agentName, iso } from '../domain/view.ts';
import { AppError } from '../errors.ts';
import type { CallStore, HistoryStore } from '../store/types.ts';
import type { Clock } from './service.ts';

/** At most this many buckets per request (a day of 1m buckets is 1,440; a week of 5m buckets 2,016). */
export const MAX_BUCKETS = 3_000;

export interface StatsRequest {
  from: number;
  to: number;
  bucket: BucketName;
  agent?: string;
  type?: CallType;
}

export class StatsService {
  constructor(
    private readonly history: HistoryStore,
    private readonly calls: CallStore,
    private readonly clock: Clock,
  ) {}

  async stats(workspaceId: string, req: StatsRequest): Promise<ReturnType<typeof toWire>> {
    const size = BUCKET_MS[req.bucket];
    if (!(req.to > req.from)) throw new AppError('invalid_request', 'querystring.to: must be after from', { field: 'querystring.to' });
    // UTC-aligned buckets: 1d buckets are UTC days.
    const from = Math.floor(req.from / size) * size;
    const to = Math.ceil(req.to / size) * size;
    if ((to - from) / size > MAX_BUCKETS) {
      throw new AppError(
        'invalid_request',
        `querystring.bucket: ${(to - from) / size} buckets of ${req.bucket} in the range; at most ${MAX_BUCKETS} (choose a larger bucket or a shorter range)`,
        { field: 'querystring.bucket' },
      );
    }
    const filters = { ...(req.agent !== undefined ? { agent: req.agent } : {}), ...(req.type ? { callType: req.type } : {}) };
    // The live calls first, then the archive, which also says which of them it holds already (a call that ended
    // in between): each call is counted once, as the archive has it.
    const active = await this.calls.listActive(workspaceId);
    const { calls, archived } = await this.history.overlapping(
      workspaceId,
      from,
      to,
      filters,
      active.map((c) => c.id),
    );
    const done = new Set(archived);
    for (const call of active) {
      if (done.has(call.id)) continue;
      const agent = agentName(call);
      if ((req.agent !== undefined && agent !== req.agent) || (req.type && callType(call) !== req.type)) continue;
      calls.push(startedAt(call), null, agent, statFlags(call.sentiment, call.transfer !== null));
    }
    return toWire(computeStats(calls, from, to, size, this.clock()), req.bucket);
  }
}

function toWire(s: Stats, bucket: BucketName) {
  return {
    from: iso(s.from),
    to: iso(s.to),
    bucket,
    buckets: s.buckets.map((b) => ({ ...b, start: iso(b.start) })),
    totals: { ...s.totals, concurrencyPeakAt: s.totals.concurrencyPeakAt === null ? null : iso(s.totals.concurrencyPeakAt) },
    agents: s.agents,
  };
}
