/**
 * The server's SQLite connection never checkpoints inside a commit; a worker thread does it (checkpointer.ts).
 * Real database files in temp dirs. In WAL mode the database file only grows when a checkpoint copies pages
 * into it, and only a TRUNCATE checkpoint (or the last connection closing) shrinks or removes the -wal file:
 * the assertions read those sizes.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCheckpointer } from '../../src/store/embedded/checkpointer.ts';
import { openDatabase } from '../../src/store/embedded/db.ts';
import { createEmbeddedStores, DEFAULT_REPLAY, openEmbeddedTenants } from '../../src/store/embedded/index.ts';
import type { Stores } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';

const PAGE = 4096;
/** SQLite's default `wal_autocheckpoint`: a commit that takes the WAL past this many pages checkpoints. */
const AUTO_PAGES = 1000;
const HOUR = 3_600_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = tempDir('livecalls-checkpoint-');
  dirs.push(dir);
  return dir;
}

const dbFile = (dir: string) => path.join(dir, 'livecalls.db');
const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const threads = () => readdirSync('/proc/self/task').length;

/** Many small commits, as ingest makes them: together well past the automatic checkpoint's 1000 pages. */
async function writeWorkspaces(stores: Stores, count = 1_500): Promise<void> {
  for (let i = 0; i < count; i++) await stores.tenants.createWorkspace(`workspace ${i} ${'x'.repeat(500)}`, i);
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQLite checkpoints off the main thread', () => {
  it('the server connection does not checkpoint on commit, however large the WAL grows', async () => {
    const dir = newDir();
    // The worker's first checkpoint is an hour away: whatever reaches the database file came from the main thread.
    const stores = createEmbeddedStores(dir, 'normal', DEFAULT_REPLAY, { everyMs: HOUR });
    const before = size(dbFile(dir));
    try {
      await writeWorkspaces(stores);
      expect(size(`${dbFile(dir)}-wal`)).toBeGreaterThan(AUTO_PAGES * PAGE);
      expect(size(dbFile(dir))).toBe(before);
    } finally {
      await stores.close();
    }
    // Closing the last connection checkpoints everything: nothing written is lost.
    expect(existsSync(`${dbFile(dir)}-wal`)).toBe(false);
    const cli = openEmbeddedTenants(dir);
    expect(await cli.tenants.countWorkspaces()).toBe(1_500);
    cli.close();
  });

  it("the worker copies the WAL's pages into the database file while the store is open", async () => {
    const dir = newDir();
    const errors: Error[] = [];
    const stores = createEmbeddedStores(dir, 'normal', DEFAULT_REPLAY, { everyMs: 50, onError: (err) => errors.push(err) });
    const before = size(dbFile(dir));
    try {
      await writeWorkspaces(stores);
      // 1500 names of over 500 bytes: only a checkpoint puts them into the database file.
      await until(() => size(dbFile(dir)) > before + 1_500 * 500, 'the database file holds the workspaces');
      // PASSIVE checkpoints: the WAL file is reused, never shrunk, below the limit.
      expect(size(`${dbFile(dir)}-wal`)).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await stores.close();
    }
  });

  it('empties a WAL grown past the limit with a TRUNCATE checkpoint', async () => {
    const dir = newDir();
    const db = openDatabase(dir);
    try {
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE filler (data BLOB)');
      db.prepare('INSERT INTO filler VALUES (randomblob(?))').run(8 * 1024 * 1024);
      expect(size(`${dbFile(dir)}-wal`)).toBeGreaterThan(8 * 1024 * 1024);
      db.pragma('wal_autocheckpoint = 1000');

      const checkpointer = startCheckpointer(db, { everyMs: 20, walLimitBytes: 1024 * 1024 });
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      await until(() => size(`${dbFile(dir)}-wal`) < 1024 * 1024, 'the WAL file is emptied');
      expect(size(dbFile(dir))).toBeGreaterThan(8 * 1024 * 1024);
      await checkpointer.close();
      // Stopped: SQLite checkpoints on commit again.
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      db.close();
    }
  });

  it.runIf(existsSync('/proc/self/task'))('close() stops the worker: its thread ends and its connection is closed', async () => {
    const dir = newDir();
    // Start libuv's thread pool now, so the count below changes only with the worker.
    await stat(dir);
    const before = threads();
    const stores = createEmbeddedStores(dir, 'normal', DEFAULT_REPLAY, { everyMs: 20 });
    expect(threads()).toBe(before + 1);
    const opened = size(dbFile(dir));
    await writeWorkspaces(stores, 10);
    // A checkpoint went through: the worker's connection is open.
    await until(() => size(dbFile(dir)) > opened, 'the worker checkpoints');
    await stores.close();
    await stores.close();
    expect(threads()).toBe(before);
    // Only the last connection to close removes the WAL: the worker's connection was closed before it.
    expect(existsSync(`${dbFile(dir)}-wal`)).toBe(false);
  });

  it('turns automatic checkpoints back on and reports it when the worker dies', async () => {
    const dir = newDir();
    const db = openDatabase(dir);
    const errors: Error[] = [];
    // The open connection keeps working on the moved file; the worker cannot open it and dies.
    renameSync(dbFile(dir), path.join(dir, 'moved.db'));
    const checkpointer = startCheckpointer(db, { everyMs: 20, onError: (err) => errors.push(err) });
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      await until(() => errors.length > 0, 'the worker is reported dead');
      expect(errors[0]?.message).toMatch(/checkpoint worker exited/);
      expect(String((errors[0]?.cause as Error | undefined)?.message)).toMatch(/cannot open .*SQLITE_CANTOPEN/);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      // The store still closes normally after its worker died.
      await checkpointer.close();
    } finally {
      db.close();
    }
  });
});
