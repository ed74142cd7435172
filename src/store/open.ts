/**
 * Chooses the backends from the config: live call state in Redis (REDIS_URL) or embedded; workspaces, keys
 * and ended calls in PostgreSQL (DATABASE_URL) or embedded. Either can be set without the other.
 */
import type Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { createEmbeddedArchive } from './embedded/archive.ts';
import { createEmbeddedCalls } from './embedded/calls.ts';
import { createMemoryFeed } from './embedded/feed.ts';
import { createEmbeddedHistory } from './embedded/history.ts';
import { createEmbeddedLeases } from './embedded/leases.ts';
import { openDatabase } from './embedded/db.ts';
import { createEmbeddedTenants } from './embedded/tenants.ts';
import { createEmbeddedWebhooks, outboxWriter } from './embedded/webhooks.ts';
import { openPostgres } from './postgres/index.ts';
import { createRedisCalls } from './redis/calls.ts';
import { createRedisFeed } from './redis/feed.ts';
import { createRedisLeases } from './redis/leases.ts';
import { createRedisRooms } from './redis/rooms.ts';
import { createEmbeddedRooms } from './embedded/rooms.ts';
import type { HistoryStore, Stores, TenantStore } from './types.ts';
import { guard, redisOutage } from './unavailable.ts';

/**
 * Fails fast instead of queueing: while Redis is away, requests answer 503 at once (so LiveKit and agent
 * workers retry) and the client reconnects in the background.
 */
export async function connectRedis(url: string, log?: Logger, connectionName?: string, commandTimeoutMs?: number): Promise<Redis> {
  const redis = new Redis(url, {
    ...(connectionName ? { connectionName } : {}),
    ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
    enableOfflineQueue: false,
    // Commands issued in the same tick (several per ingest, many ingests at once) go out in one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let warned = false;
  redis.on('error', (err) => {
    if (!warned) log?.warn({ err }, 'Redis connection error; reconnecting');
    warned = true;
  });
  redis.on('ready', () => {
    if (warned) log?.info('Redis connection restored');
    warned = false;
  });
  await redis.connect();
  return redis;
}

export async function openStores(config: Readonly<Config>, log?: Logger): Promise<Stores> {
  const db = !config.redisUrl || !config.databaseUrl ? openDatabase(config.dataDir, config.sync) : undefined;
  const pg = config.databaseUrl ? await openPostgres(config.databaseUrl, log, config.backendTimeoutMs) : undefined;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, log) : undefined;
  const rateLimitRedis = config.redisUrl
    ? await connectRedis(config.redisUrl, log, `${config.redisPrefix}:ratelimit`, Math.max(100, Math.floor(config.backendTimeoutMs / 4)))
    : undefined;
  const redisFeed =
    config.redisUrl && redis
      ? createRedisFeed(
          redis,
          await connectRedis(config.redisUrl, log, `${config.redisPrefix}:feed`),
          config.redisPrefix,
          config.streamReplay,
        )
      : undefined;
  // Only the calls that reach Redis are guarded: compare and subscribe are local and synchronous.
  const feed =
    redisFeed && redis
      ? {
          ...redisFeed,
          ...guard(
            'Redis',
            { publish: redisFeed.publish, since: redisFeed.since, head: redisFeed.head },
            redisOutage(redis),
            config.backendTimeoutMs,
          ),
        }
      : createMemoryFeed(config.streamReplay);
  const embedded = () => {
    if (!db) throw new Error('embedded store not opened');
    return db;
  };
  const archive = pg?.archive ?? createEmbeddedArchive(embedded());
  return {
    tenants: pg?.tenants ?? createEmbeddedTenants(embedded()),
    history: historyOf(pg?.history, db),
    calls: redis
      ? guard(
          'Redis',
          createRedisCalls(redis, config.redisPrefix, archive, config.streamReplay, config.backendTimeoutMs),
          redisOutage(redis),
          config.backendTimeoutMs,
          ['ingest'],
        )
      : // With the outbox embedded too (no PostgreSQL), a batch's webhooks are written in its commit.
        createEmbeddedCalls(embedded(), pg?.archive, feed, log, pg ? undefined : outboxWriter(embedded())),
    feed,
    // The outbox lives with the tenants: PostgreSQL when set (shared), else embedded, even when REDIS_URL is set.
    webhooks: pg?.webhooks ?? createEmbeddedWebhooks(embedded()),
    // Its own connection, with a command timeout: the rate limit must never hold a request during a partition
    // (it lets the request through on an error; the request's own store calls then answer 503).
    ...(rateLimitRedis ? { redis: rateLimitRedis } : {}),
    // Ownership lives with the live calls: every instance that shares them must see the same owners.
    rooms: redis
      ? guard('Redis', createRedisRooms(redis, config.redisPrefix), redisOutage(redis), config.backendTimeoutMs)
      : createEmbeddedRooms(embedded()),
    tryLease: redis
      ? guard('Redis', { take: createRedisLeases(redis, config.redisPrefix) }, redisOutage(redis), config.backendTimeoutMs).take
      : createEmbeddedLeases(embedded()),
    async ping() {
      db?.prepare('SELECT 1').get();
      await pg?.ping();
      if (redis) await guard('Redis', { ping: () => redis.ping() }, redisOutage(redis), config.backendTimeoutMs).ping();
    },
    async close() {
      redisFeed?.close();
      redis?.disconnect();
      rateLimitRedis?.disconnect();
      await pg?.close();
      if (db?.open) db.close();
    },
  };
}

/**
 * The history is the archive's: PostgreSQL when set, else the embedded database. With live calls embedded and
 * the archive in PostgreSQL, the embedded database keeps its ended calls too: retention purges both.
 */
function historyOf(pgHistory: HistoryStore | undefined, db: Database.Database | undefined): HistoryStore {
  if (!db) {
    if (!pgHistory) throw new Error('no store for the call history');
    return pgHistory;
  }
  const local = createEmbeddedHistory(db);
  if (!pgHistory) return local;
  return {
    ...pgHistory,
    async purge(endedBefore, limit) {
      // The same calls, kept twice: counted once; a full batch on either side asks for another.
      return Math.max(await pgHistory.purge(endedBefore, limit), await local.purge(endedBefore, limit));
    },
  };
}

/** Tenant data only, for the CLI: the same store the server uses. */
export async function openTenants(config: Readonly<Config>): Promise<{ tenants: TenantStore; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl);
    return { tenants: pg.tenants, close: () => pg.close() };
  }
  const db = openDatabase(config.dataDir, config.sync);
  return {
    tenants: createEmbeddedTenants(db),
    close: async () => {
      db.close();
    },
  };
}
