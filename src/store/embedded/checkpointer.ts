/**
 * Checkpoints the server's SQLite WAL off the event loop. SQLite's automatic checkpoint runs inside whichever
 * COMMIT takes the WAL past 1000 pages: on the main thread, inside an HTTP request, which then pays for copying
 * the WAL into the database file plus an fsync (p99 of ingest went from 5–9 ms to up to 40 ms). So the
 * connection's automatic checkpoints are turned off and a worker thread with a connection of its own
 * checkpoints instead (policy in checkpoint-worker.js). If the worker dies, the automatic checkpoints come back
 * on: a slow request now and then beats a WAL that grows without bound.
 *
 * Only for a long-lived connection: short-lived ones (the CLI) keep SQLite's default, and the last connection
 * to close checkpoints the whole WAL anyway.
 */
import type Database from 'better-sqlite3';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface CheckpointerOptions {
  /**
   * Time between checkpoints. Default 200 ms: a busy server writes tens of MB of WAL a second, and the WAL is
   * only reused from its start once a checkpoint has copied all of it, so frequent PASSIVE checkpoints are
   * what keep it small (one with nothing to copy costs microseconds).
   */
  everyMs?: number;
  /**
   * WAL file size past which the worker runs a TRUNCATE checkpoint (it briefly holds back the server's
   * commits) instead of a PASSIVE one, so the WAL cannot grow without bound. Default 256 MiB: a TRUNCATE
   * holds every commit back while it copies and syncs, so it is for a WAL that PASSIVE checkpoints could not
   * keep small (a reader holding an old snapshot), never for a busy but healthy one.
   */
  walLimitBytes?: number;
  /** Told about each failed checkpoint and about the worker's death. Default: a process warning. */
  onError?: (err: Error) => void;
}

export interface Checkpointer {
  /** Stops the worker and waits for it to exit; `db` then checkpoints on commit again. Safe to call twice. */
  close(): Promise<void>;
}

// A plain .js file started by URL, so no TypeScript loader is needed inside the worker.
const WORKER = new URL('./checkpoint-worker.js', import.meta.url);
const DEFAULT_EVERY_MS = 200;
const DEFAULT_WAL_LIMIT_BYTES = 256 * 1024 * 1024;
const WORKER_BUSY_TIMEOUT_MS = 250;
/** Failed checkpoints in a row after which the worker gives up (and SQLite checkpoints on commit again). */
const MAX_FAILURES = 5;
/** How long close() lets a running checkpoint finish before ending the worker. */
const STOP_TIMEOUT_MS = 10_000;

/** Takes over checkpointing of `db` (a file database in WAL mode) until `close()`. */
export function startCheckpointer(db: Database.Database, options: CheckpointerOptions = {}): Checkpointer {
  const onError = options.onError ?? ((err: Error) => process.emitWarning(err));
  const autoCheckpoint = Number(db.pragma('wal_autocheckpoint', { simple: true }));
  const worker = new Worker(WORKER, {
    // Plain JavaScript: none of the parent's loader flags (tsx's, vitest's), so it starts faster and the same
    // way under every runner.
    execArgv: [],
    // It needs almost nothing: with V8's default heap limits and SQLite's default page cache (see the worker)
    // the process held about 100 MiB more at 100,000 active calls (memory benchmark), as much as the calls'
    // own overhead; with these limits, no more than without the worker.
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    workerData: {
      file: path.resolve(db.name),
      everyMs: options.everyMs ?? DEFAULT_EVERY_MS,
      walLimitBytes: options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES,
      busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS,
      maxFailures: MAX_FAILURES,
    },
  });
  // The process may exit without closing the store (a fatal error path): the worker must not hold it up.
  worker.unref();

  let stopping = false;
  let crash: unknown;
  worker.on('message', (message: { error: string }) => onError(new Error(`SQLite checkpoint failed: ${message.error}`)));
  // Without this listener an error thrown in the worker would be thrown again here and end the server.
  worker.on('error', (err) => {
    crash = err;
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
      if (!stopping) {
        onError(new Error(`SQLite checkpoint worker exited (code ${code}); checkpoints run on commit again`, { cause: crash }));
      }
      resolve();
    });
  });
  // Off only now that a worker exists: if starting it throws, SQLite goes on checkpointing on commit.
  db.pragma('wal_autocheckpoint = 0');

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        stopping = true;
        // Let the worker close its connection even if nothing else keeps the process running meanwhile.
        worker.ref();
        worker.postMessage('stop');
        const force = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(force);
      })();
      return closed;
    },
  };
}
