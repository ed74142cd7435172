/**
 * The Redis list read path under reads that overlap: a read that finishes after a newer one must neither
 * undo it nor answer older than what is kept. The interleaving is forced by holding one read's view fetch
 * (real Redis; only the moment the reply is handed back is delayed).
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { openStores } from '../../src/store/open.ts';
import { createListViews } from '../../src/store/redis/list-views.ts';
import type { Stores } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';
import { dropRedisPrefix, randomName, redisReachable, REDIS_URL } from '../helpers/backends.ts';
import { serviceFor } from '../helpers/service.ts';

const redisUp = await redisReachable();
const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);

describe.runIf(redisUp)('Redis list views, overlapping reads', () => {
  let prefix: string;
  let dir: string;
  let stores: Stores;
  let redis: Redis;
  beforeEach(async () => {
    prefix = randomName('lcviews');
    dir = tempDir();
    stores = await openStores(loadConfig({ LIVECALLS_DATA_DIR: dir, REDIS_URL, LIVECALLS_REDIS_PREFIX: prefix }));
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    redis.disconnect();
    await stores.close();
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a read that lands after a newer one changes nothing and answers the newer list', async () => {
    const ws = 'ws1';
    const service = serviceFor(stores, NOW);
    let n = 0;
    const say = (content: string) =>
      service.ingest(ws, 'room', [{ type: 'transcript', id: `t${++n}`, at: NOW + n, role: 'customer', content }], 'agent');
    const lastMessage = (views: readonly { head: string; tail: string }[]) =>
      views.map((v) => (JSON.parse(`${v.head}0${v.tail}`) as { lastMessage: string }).lastMessage);

    // Views fetched while `hold` is set are handed back only once it is released; `fetched` tells they were read.
    let hold: Promise<void> | undefined;
    let fetched = () => {};
    const held = Object.create(redis) as Redis;
    held.mget = (async (...args: Parameters<Redis['mget']>) => {
      const gate = hold;
      const reply = await redis.mget(...args);
      if (gate) fetched();
      await gate;
      return reply;
    }) as Redis['mget'];
    const views = createListViews(
      held,
      (w, name) => `${prefix}:{${w}}:${name}`,
      async () => [],
    );

    await say('one');
    expect(lastMessage(await views.read(ws))).toEqual(['one']);
    await say('two');
    let release = () => {};
    hold = new Promise((resolve) => (release = resolve));
    const read = new Promise<void>((resolve) => (fetched = resolve));
    const slow = views.read(ws); // reads "two", then waits
    await read;
    hold = undefined;
    await say('three');
    expect(lastMessage(await views.read(ws))).toEqual(['three']);
    release();
    expect(lastMessage(await slow)).toEqual(['three']);
    expect(lastMessage(await views.read(ws))).toEqual(['three']);
  });
});
