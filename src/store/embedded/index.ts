import type { Logger } from 'pino';
import type { Stores } from '../types.ts';
import { createEmbeddedCalls } from './calls.ts';
import { createMemoryFeed } from './feed.ts';
import { openDatabase, type SyncMode } from './db.ts';
import { createEmbeddedHistory } from './history.ts';
import { createEmbeddedLeases } from './leases.ts';
import { createEmbeddedRooms } from './rooms.ts';
import { createEmbeddedTenants } from './tenants.ts';
import { createEmbeddedWebhooks, outboxWriter } from './webhooks.ts';

/** Entries of each workspace's live log kept for resuming streams, unless configured otherwise. */
export const DEFAULT_REPLAY = 1_000;

/**
 * `relayWebhooks`: keep each commit's webhook news in the relay (as with the outbox in PostgreSQL) rather
 * than writing the outbox in the commit; both are transactional, the relay is the path of the other stores.
 */
export function createEmbeddedStores(
  dataDir: string,
  sync: SyncMode = 'normal',
  replay = DEFAULT_REPLAY,
  log?: Logger,
  options: { relayWebhooks?: boolean } = {},
): Stores {
  const db = openDatabase(dataDir, sync);
  const feed = createMemoryFeed(replay);
  return {
    tenants: createEmbeddedTenants(db),
    // The outbox is in this database: a batch's webhooks are written in its commit.
    calls: createEmbeddedCalls(db, undefined, feed, log, options.relayWebhooks ? undefined : outboxWriter(db)),
    feed,
    webhooks: createEmbeddedWebhooks(db),
    rooms: createEmbeddedRooms(db),
    history: createEmbeddedHistory(db),
    tryLease: createEmbeddedLeases(db),
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

/** Tenant data only (the CLI): does not load live calls into memory. */
export function openEmbeddedTenants(dataDir: string): { tenants: Stores['tenants']; close(): void } {
  const db = openDatabase(dataDir);
  return { tenants: createEmbeddedTenants(db), close: () => db.close() };
}
