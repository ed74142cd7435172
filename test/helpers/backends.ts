/**
 * Real Redis and PostgreSQL for tests: a random key prefix / a fresh database per place, removed after.
 * Locally a missing server skips loudly; with CI=true it fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { openStores } from '../../src/store/open.ts';
import type { Stores } from '../../src/store/types.ts';

/** Scale-out needs the shared server secret; tests use this one. */
export const TEST_SECRET = 'test-server-secret-0123456789abcdefghijkl';
export const REDIS_URL = process.env.LIVECALLS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_ADMIN_URL = process.env.LIVECALLS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(check: () => Promise<unknown>, what: string): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`${what} is required in CI but unreachable: ${String(err)}`, { cause: err });
    console.warn(`\n*** SKIPPING ${what} tests: ${what} unreachable (${String(err)}) ***\n`);
    return false;
  }
}

export async function redisReachable(): Promise<boolean> {
  return reachable(async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      await r.ping();
    } finally {
      r.disconnect();
    }
  }, 'Redis');
}

export async function pgReachable(): Promise<boolean> {
  return reachable(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.end();
  }, 'PostgreSQL');
}

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A fresh database; returns its URL. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = randomName('lc_test');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // A pool that was just ended may still be closing its connections: FORCE would kill them mid-goodbye,
      // and the closing client raises that as an uncaught error. Give them a moment to go first.
      for (let i = 0; i < 40; i++) {
        const open = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (Number(open.rows[0]?.n ?? 0) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Deletes every key under a prefix. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/**
 * Stores opened as the server opens them, on a fresh place per test: a random Redis key prefix when
 * `useRedis`, a fresh PostgreSQL database when `usePg`, and a temp data dir; `dispose` removes all three.
 * The shape the contract suites take.
 */
export function storesOnPlaces(useRedis: boolean, usePg: boolean, name = 'lcplace') {
  const places = new Map<string, { prefix: string; dir: string; db?: { url: string; drop(): Promise<void> } }>();
  return {
    newPlace: () => {
      const id = randomName('place');
      places.set(id, { prefix: randomName(name), dir: mkdtempSync(path.join(tmpdir(), 'livecalls-place-')) });
      return id;
    },
    open: async (id: string): Promise<Stores> => {
      const place = places.get(id);
      if (!place) throw new Error('unknown place');
      if (usePg && !place.db) place.db = await createDatabase();
      const config = loadConfig({
        LIVECALLS_DATA_DIR: place.dir,
        LIVECALLS_REDIS_PREFIX: place.prefix,
        ...(useRedis ? { REDIS_URL } : {}),
        ...(usePg && place.db ? { DATABASE_URL: place.db.url } : {}),
      });
      return openStores(config);
    },
    /** The place's data dir (where embedded parts live). */
    dirOf: (id: string): string | undefined => places.get(id)?.dir,
    dispose: async (id: string) => {
      const place = places.get(id);
      if (!place) return;
      places.delete(id);
      if (useRedis) await dropRedisPrefix(place.prefix);
      await place.db?.drop();
      rmSync(place.dir, { recursive: true, force: true });
    },
  };
}
