/**
 * The two store configurations every measurement runs on. Each measurement gets a fresh one: its own data
 * directory, or its own Redis key prefix and PostgreSQL database, removed afterwards.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { openTenants } from '../../src/store/open.ts';
import { createDatabase, dropRedisPrefix, randomName, REDIS_URL, TEST_SECRET } from '../../test/helpers/backends.ts';

export type BackendName = 'embedded' | 'redis+pg';
export const BACKENDS: readonly BackendName[] = ['embedded', 'redis+pg'];

export const LK_KEY = 'bench-key';
export const LK_SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export interface Backend {
  name: BackendName;
  /** Environment for the server (and for anything opening the same stores). */
  env: Record<string, string>;
  redisPrefix: string | undefined;
  cleanup(): Promise<void>;
}

export interface Tenant {
  workspaceId: string;
  apiKey: string;
}

let counter = 0;

export async function createBackend(name: BackendName, dir: string): Promise<Backend> {
  const dataDir = path.join(dir, `${name.replace('+', '-')}-${++counter}`);
  mkdirSync(dataDir, { recursive: true });
  const base = { LIVECALLS_DATA_DIR: dataDir, LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET };
  if (name === 'embedded') {
    return { name, env: base, redisPrefix: undefined, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const db = await createDatabase();
  const prefix = randomName('lcbench');
  return {
    name,
    env: { ...base, REDIS_URL, DATABASE_URL: db.url, LIVECALLS_SECRET: TEST_SECRET, LIVECALLS_REDIS_PREFIX: prefix },
    redisPrefix: prefix,
    async cleanup() {
      await db.drop();
      await dropRedisPrefix(prefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Workspaces with one API key each, written straight to the tenant store (before the server starts). */
export async function seedTenants(backend: Backend, n: number): Promise<Tenant[]> {
  const { tenants, close } = await openTenants(loadConfig(backend.env));
  try {
    const out: Tenant[] = [];
    for (let i = 0; i < n; i++) {
      const ws = await tenants.createWorkspace(`bench ${i}`, Date.now());
      const { apiKey } = await tenants.createKey(ws.id, Date.now());
      out.push({ workspaceId: ws.id, apiKey });
    }
    return out;
  } finally {
    await close();
  }
}

/** Redis `used_memory` in bytes. */
export async function redisUsedMemory(): Promise<number> {
  const r = new Redis(REDIS_URL);
  try {
    const info = await r.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  } finally {
    r.disconnect();
  }
}
