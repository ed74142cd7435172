/**
 * Ends calls that stopped receiving events. LiveKit may drop `room_finished` (it does not guarantee
 * delivery), so a call with no event for `staleAfterMs` is ended with reason "stale" instead of staying
 * active forever. Also forgets dedupe ids older than `DEDUPE_WINDOW_MS` (LiveKit retries within minutes;
 * beyond the window, a repeated transcript turn is still kept once because turns are keyed by id).
 *
 * Several instances sharing a store sweep one at a time: a lease (held for three periods, so a crashed
 * holder is replaced soon) keeps them from ending, pruning and archiving the same calls twice over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { CallStore, Stores } from '../store/types.ts';
import type { CallService, Clock } from './service.ts';
import type { Metrics } from '../metrics.ts';
import { periodic } from './periodic.ts';

export const DEDUPE_WINDOW_MS = 24 * 3_600_000;
const BATCH = 500;
const SWEEP_LEASE = 'sweeper';

/** How often a sweep runs: a quarter of the stale window, between 1 s and 1 min. */
export function sweepEvery(staleAfterMs: number): number {
  return Math.max(1_000, Math.min(60_000, Math.floor(staleAfterMs / 4)));
}

export interface Sweeper {
  /** One pass; returns how many calls were ended (0 when another instance holds the lease). */
  sweep(): Promise<number>;
  start(): void;
  /** Stops the timer; resolves once a pass in progress has finished (so the stores can close under it). */
  stop(): Promise<void>;
}

export function createSweeper(opts: {
  calls: CallStore;
  /** Where the sweep lease is kept: the stores every instance shares. */
  leases: Pick<Stores, 'tryLease'>;
  /** Who holds the lease; unique per process by default. */
  holder?: string;
  service: CallService;
  staleAfterMs: number;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}): Sweeper {
  const { calls, service, staleAfterMs, clock, metrics, log, leases } = opts;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const every = sweepEvery(staleAfterMs);

  async function sweep(): Promise<number> {
    if (!(await leases.tryLease(SWEEP_LEASE, holder, every * 3, clock()))) return 0;
    let ended = 0;
    for (;;) {
      const idle = await calls.listIdle(clock() - staleAfterMs, BATCH);
      const before = ended;
      for (const { workspaceId, roomName } of idle) {
        const call = await calls.getActive(workspaceId, roomName);
        if (!call || call.lastActivityAt >= clock() - staleAfterMs) continue;
        await service.endHere(workspaceId, call, 'stale');
        metrics.callsExpired.inc();
        log.info({ workspaceId, roomName, callId: call.id }, 'call ended: no event within the stale window');
        ended++;
      }
      // A full batch may hide more; a pass that ended nothing would only see the same rows again.
      if (idle.length < BATCH || ended === before) break;
    }
    await calls.pruneSeen(clock() - DEDUPE_WINDOW_MS);
    const archived = await calls.archivePending(({ workspaceId, callId, err }) => {
      metrics.archiveFailures.inc();
      log.error({ err, workspaceId, callId }, 'an ended call could not be archived; it stays pending, the others go on');
    });
    if (archived > 0) log.info({ archived }, 'archived ended calls whose first copy had failed');
    return ended;
  }

  return {
    sweep,
    ...periodic(sweep, every, (err) => log.error({ err }, 'stale-call sweep failed; will retry')),
  };
}
