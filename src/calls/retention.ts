/**
 * Retention (LIVECALLS_RETENTION): ended calls older than the retention are deleted, with their turns and
 * search entries, in small batches (one short transaction each, a pause between them) so a first purge of a
 * large archive never holds the database for long. Several instances may purge at once: a call is deleted
 * once, the others find nothing.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { HistoryStore } from '../store/types.ts';
import type { Clock } from './service.ts';
import { periodic } from './periodic.ts';

export const PURGE_BATCH = 200;
/** Batches per pass; what is left waits for the next pass. */
const MAX_BATCHES = 500;

export interface Retention {
  /** One pass; returns how many calls were deleted. */
  purge(): Promise<number>;
  start(): void;
  /** Stops the timer; resolves once a pass in progress has finished. */
  stop(): Promise<void>;
}

export function createRetention(opts: {
  history: HistoryStore;
  /** undefined: keep ended calls forever (the loop does nothing). */
  retentionMs: number | undefined;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  everyMs?: number;
  pauseMs?: number;
}): Retention {
  const { history, retentionMs, clock, metrics, log } = opts;
  let stopping = false;

  async function purge(): Promise<number> {
    if (retentionMs === undefined) return 0;
    let total = 0;
    for (let i = 0; i < MAX_BATCHES && !stopping; i++) {
      const n = await history.purge(clock() - retentionMs, PURGE_BATCH);
      total += n;
      metrics.historyPurged.inc(n);
      if (n < PURGE_BATCH) break;
      await new Promise((resolve) => setTimeout(resolve, opts.pauseMs ?? 20));
    }
    if (total > 0) log.info({ purged: total }, 'ended calls older than the retention were deleted');
    return total;
  }

  const loop = periodic(purge, opts.everyMs ?? 60_000, (err) => log.error({ err }, 'retention purge failed; will retry'));

  return {
    purge,
    start() {
      if (retentionMs === undefined) return;
      stopping = false;
      loop.start();
    },
    async stop() {
      stopping = true;
      await loop.stop();
    },
  };
}
