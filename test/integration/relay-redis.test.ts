/**
 * The Redis relay of webhook news (see RelayStore): the ingest script's bounded stream, and what a mover takes
 * from many workspaces' streams. Against the machine's real Redis, under a random key prefix.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedArchive } from '../../src/store/embedded/archive.ts';
import { openDatabase } from '../../src/store/embedded/db.ts';
import { createRedisCalls } from '../../src/store/redis/calls.ts';
import { GuardedWrite } from '../../src/store/redis/guarded-write.ts';
import { tempDir } from '../helpers/app.ts';
import { dropRedisPrefix, randomName, REDIS_URL, redisReachable } from '../helpers/backends.ts';

const redisUp = await redisReachable();

describe.skipIf(!redisUp && process.env.CI !== 'true')('the Redis relay of webhook news', () => {
  const prefix = randomName('lcrelay');
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    redis.disconnect();
  });
  const key = (ws: string, ...rest: string[]) => [`${prefix}:{${ws}}`, ...rest].join(':');

  it('keeps at most its bound of entries, dropping the oldest and counting them, in the commit', async () => {
    for (let n = 1; n <= 5; n++) {
      const w = new GuardedWrite();
      w.ops.push({
        k: w.key(key('ws_cap', 'relay')),
        op: 'xadd',
        v: `news ${n}`,
        max: 3,
        dropped: w.key(key('ws_cap', 'relay', 'dropped')),
      });
      expect(await w.commit(redis)).toBe(true);
    }
    const kept = await redis.xrange(key('ws_cap', 'relay'), '-', '+');
    expect(kept.map(([, fields]) => fields[1])).toEqual(['news 3', 'news 4', 'news 5']);
    expect(await redis.get(key('ws_cap', 'relay', 'dropped'))).toBe('2');
  });

  it('takes from every waiting workspace within the budget, each in order, and forgets what is done', async () => {
    const calls = createRedisCalls(redis, prefix, createEmbeddedArchive(openDatabase(tempDir('livecalls-relay-'))));
    const relay = calls.relay;
    if (!relay) throw new Error('the Redis store has a relay');
    const workspaces = ['ws_a', 'ws_b', 'ws_c', 'ws_empty'];
    await redis.sadd(`${prefix}:workspaces`, ...workspaces);
    for (const ws of ['ws_a', 'ws_b', 'ws_c']) {
      for (let n = 1; n <= (ws === 'ws_a' ? 50 : 3); n++) await redis.xadd(key(ws, 'relay'), '*', 'b', `${ws} ${n}`);
    }
    const first = await relay.take(6);
    expect(first.length).toBeLessThanOrEqual(6);
    // Every waiting workspace gets a share, the busy one cannot take the whole budget.
    const by = (entries: typeof first, ws: string) => entries.filter((e) => e.workspaceId === ws).map((e) => e.body);
    for (const ws of ['ws_a', 'ws_b', 'ws_c']) expect(by(first, ws)).toEqual([`${ws} 1`, `${ws} 2`]);
    await relay.done(first);
    await relay.done(first); // twice is harmless

    const rest: string[] = [];
    for (let round = 0; round < 100; round++) {
      const entries = await relay.take(6);
      if (entries.length === 0) break;
      rest.push(...entries.map((e) => e.body));
      await relay.done(entries);
    }
    expect(rest.filter((b) => b.startsWith('ws_a'))).toEqual(Array.from({ length: 48 }, (_, i) => `ws_a ${i + 3}`));
    expect(rest.filter((b) => !b.startsWith('ws_a')).sort()).toEqual(['ws_b 3', 'ws_c 3']);
    expect(await relay.take(6)).toEqual([]);
  });
});
