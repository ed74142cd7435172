/**
 * Worker thread body of `checkpointer.ts`: checkpoints the server's SQLite WAL on a connection of its own, so
 * the copy into the database file and its fsync never run inside a request on the main thread.
 *
 * Plain JavaScript on purpose: it is started by file URL and must load the same way under `tsx` (npm start),
 * vitest and plain node, without relying on a TypeScript loader inside the worker.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';

/** @type {{ file: string, everyMs: number, walLimitBytes: number, busyTimeoutMs: number, maxFailures: number }} */
const { file, everyMs, walLimitBytes, busyTimeoutMs, maxFailures } = workerData;

/** Errors cross to the main thread by structured clone, which keeps a plain Error's message but not a SqliteError's. */
function describe(err) {
  return err instanceof Error ? `${err.message}${'code' in err ? ` (${err.code})` : ''}` : String(err);
}

function open() {
  try {
    // fileMustExist: if the file is gone, dying (and so handing checkpoints back to the main connection) beats
    // creating an empty database beside it. The connection's default synchronous=FULL makes each checkpoint
    // fsync the WAL before copying and the database file before the WAL is reused.
    const db = new Database(file, { fileMustExist: true });
    // Copying frames needs no page cache to speak of; SQLite's default (2 MiB) would only add to the footprint.
    db.pragma('cache_size = -256');
    // Short: only a TRUNCATE waits on it, holding the write lock while it waits for readers, and the server's
    // commits wait behind it.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    return db;
  } catch (err) {
    throw new Error(`cannot open ${file}: ${describe(err)}`, { cause: err });
  }
}

const db = open();
/** Ticks to wait after a TRUNCATE that a lingering reader kept from finishing (each attempt holds writers back). */
const TRUNCATE_BACKOFF_TICKS = 30;
let tick = 0;
let truncateFrom = 0;
let failures = 0;

function walBytes() {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

function checkpoint() {
  tick += 1;
  try {
    // PASSIVE never takes the write lock, so the server's commits go on while frames are copied. It can fall
    // behind a steady stream of commits (the WAL is only reused once fully copied); the WAL file then grows,
    // and past the bound a TRUNCATE waits for a quiet moment, copies the rest and empties the file. The file's
    // size is a high-water mark (PASSIVE never shrinks it), so one successful TRUNCATE brings it back below.
    const truncate = tick >= truncateFrom && walBytes() > walLimitBytes;
    const [result] = db.pragma(`wal_checkpoint(${truncate ? 'TRUNCATE' : 'PASSIVE'})`);
    if (truncate && result?.busy) truncateFrom = tick + TRUNCATE_BACKOFF_TICKS;
    failures = 0;
  } catch (err) {
    failures += 1;
    parentPort?.postMessage({ error: describe(err) });
    // One failure is reported and retried; a lasting one ends the worker, whose owner then turns SQLite's
    // own checkpoints back on rather than letting the WAL grow for ever.
    if (failures >= maxFailures) {
      clearInterval(timer);
      db.close();
      throw new Error(`${failures} checkpoints failed in a row, the last: ${describe(err)}`, { cause: err });
    }
  }
}

const timer = setInterval(checkpoint, everyMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
