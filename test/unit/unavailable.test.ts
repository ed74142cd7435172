/**
 * Only a backend that cannot be reached is an outage (503); what a reachable server answers, and what our own
 * code throws, keep their type (a 500). Real servers make the real errors.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { guard, pgOutage, redisOutage } from '../../src/store/unavailable.ts';
import { PG_ADMIN_URL, pgReachable, REDIS_URL, redisReachable } from '../helpers/backends.ts';

const redisUp = await redisReachable();
const pgUp = await pgReachable();

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const isUnavailable = (err: unknown) => err instanceof AppError && err.code === 'service_unavailable';

describe.runIf(redisUp)('Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(() => redis.disconnect());

  it('a Lua error, a JSON.parse error and a TypeError are not outages', async () => {
    const store = guard(
      'Redis',
      {
        lua: () => redis.eval("return redis.error_reply('boom')", 0),
        parse: async () => JSON.parse(String(await redis.ping()).slice(1)) as unknown,
        type: async () => (null as unknown as { x: () => void }).x(),
      },
      redisOutage(redis),
    );
    for (const run of [store.lua, store.parse, store.type]) {
      const err = await rejection(run);
      expect(isUnavailable(err)).toBe(false);
      expect(err).toBeInstanceOf(Error);
    }
  });

  it('a command while the connection is down is an outage', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    const store = guard('Redis', { get: () => down.get('k') }, redisOutage(down));
    expect(isUnavailable(await rejection(store.get))).toBe(true);
    down.disconnect();
  });
});

describe.runIf(pgUp)('PostgreSQL', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1 });
  });
  afterAll(() => pool.end());

  it('a value PostgreSQL refuses and a SQL error are not outages', async () => {
    const store = guard(
      'PostgreSQL',
      {
        nul: () => pool.query('SELECT $1::text', ['a\u0000b']),
        syntax: () => pool.query('SELEC 1'),
      },
      pgOutage,
    );
    for (const run of [store.nul, store.syntax]) expect(isUnavailable(await rejection(run))).toBe(false);
  });

  it('a primary that turned read-only (a failover) is an outage', async () => {
    const readOnly = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1, options: '-c default_transaction_read_only=on' });
    const store = guard('PostgreSQL', { write: () => readOnly.query('CREATE TEMP TABLE livecalls_read_only_probe (i int)') }, pgOutage);
    const err = await rejection(store.write);
    expect(isUnavailable(err)).toBe(true);
    expect(((err as Error).cause as { code?: string }).code).toBe('25006');
    await readOnly.end();
  });

  it('a server that cannot be reached is an outage', async () => {
    const down = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 1_000 });
    const store = guard('PostgreSQL', { q: () => down.query('SELECT 1') }, pgOutage);
    expect(isUnavailable(await rejection(store.q))).toBe(true);
    await down.end();
  });
});
