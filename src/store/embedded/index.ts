import type { Stores } from '../types.ts';
import { createEmbeddedCalls } from './calls.ts';
import { startCheckpointer, type CheckpointerOptions } from './checkpointer.ts';
import { createMemoryFeed } from './feed.ts';
import { openDatabase, type SyncMode } from './db.ts';
import { createEmbeddedLeases } from './leases.ts';
import { createEmbeddedTenants } from './tenants.ts';
import { createEmbeddedWebhooks } from './webhooks.ts';

/** Entries of each workspace's live log kept for resuming streams, unless configured otherwise. */
export const DEFAULT_REPLAY = 1_000;

/** The server's store: its connection lives long, so checkpoints run on a worker thread (see checkpointer.ts). */
export function createEmbeddedStores(
  dataDir: string,
  sync: SyncMode = 'normal',
  replay = DEFAULT_REPLAY,
  checkpoints: CheckpointerOptions = {},
): Stores {
  const db = openDatabase(dataDir, sync);
  const checkpointer = startCheckpointer(db, checkpoints);
  const feed = createMemoryFeed(replay);
  return {
    tenants: createEmbeddedTenants(db),
    calls: createEmbeddedCalls(db, undefined, feed),
    feed,
    webhooks: createEmbeddedWebhooks(db),
    tryLease: createEmbeddedLeases(db),
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      // Worker first: the main connection is then the last one, and closing it checkpoints the whole WAL.
      await checkpointer.close();
      if (db.open) db.close();
    },
  };
}

/** Tenant data only (the CLI): does not load live calls into memory. Short-lived: SQLite checkpoints on commit. */
export function openEmbeddedTenants(dataDir: string): { tenants: Stores['tenants']; close(): void } {
  const db = openDatabase(dataDir);
  return { tenants: createEmbeddedTenants(db), close: () => db.close() };
}
