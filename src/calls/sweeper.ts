/**
 * Ends calls that stopped receiving events. LiveKit may drop `room_finished` (it does not guarantee
 * delivery), so a call with no event for `staleAfterMs` is ended with reason "stale" instead of staying
 * active forever. Also forgets dedupe ids older than `DEDUPE_WINDOW_MS` (LiveKit retries within minutes;
 * beyond the window, a repeated transcript turn is still kept once because turns are keyed by id).
 */
import type { Logger } from 'pino';
import type { CallStore } from '../store/types.ts';
import type { CallService, Clock } from './service.ts';
import type { Metrics } from '../metrics.ts';

export const DEDUPE_WINDOW_MS = 24 * 3_600_000;
const BATCH = 500;

export interface Sweeper {
  /** One pass; returns how many calls were ended. */
  sweep(): Promise<number>;
  start(): void;
  /** Stops the timer; resolves once a pass in progress has finished (so the stores can close under it). */
  stop(): Promise<void>;
}

export function createSweeper(opts: {
  calls: CallStore;
  service: CallService;
  staleAfterMs: number;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}): Sweeper {
  const { calls, service, staleAfterMs, clock, metrics, log } = opts;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function sweep(): Promise<number> {
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
    start() {
      const every = Math.max(1_000, Math.min(60_000, Math.floor(staleAfterMs / 4)));
      timer = setInterval(() => {
        if (running) return;
        running = sweep()
          .catch((err: unknown) => {
            log.error({ err }, 'stale-call sweep failed; will retry');
            return 0;
          })
          .finally(() => (running = undefined));
      }, every);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
