import type { Stores } from '../types.ts';
import { createEmbeddedCalls } from './calls.ts';
import { openDatabase, type SyncMode } from './db.ts';
import { createEmbeddedLeases } from './leases.ts';
import { createEmbeddedTenants } from './tenants.ts';

export function createEmbeddedStores(dataDir: string, sync: SyncMode = 'normal'): Stores {
  const db = openDatabase(dataDir, sync);
  return {
    tenants: createEmbeddedTenants(db),
    calls: createEmbeddedCalls(db),
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
