/**
 * The Redis list read path (src/store/redis/list-views.ts) where it keeps state between reads: reads that
 * overlap (a read that finishes after a newer one must neither undo it nor answer older than what is kept;
 * the interleaving is forced by holding one read's view fetch, on real Redis: only the moment the reply is
 * handed back is delayed), a sequence that was lost and started again, and views made from calls.
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

describe.runIf(redisUp)('Redis list views kept between reads', () => {
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
      // Only the views' fetch is held, not the sequence's.
      const gate = JSON.stringify(args).includes(':view:') ? hold : undefined;
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

  it('a sequence lost and started again is noticed, even once it has caught up with the one kept', async () => {
    const ws = 'ws2';
    const service = serviceFor(stores, NOW);
    const start = (room: string) =>
      service.ingest(ws, room, [{ type: 'transcript', id: `${room}-1`, at: NOW, role: 'customer', content: `hi from ${room}` }], 'agent');
    const rooms = (views: readonly { head: string; tail: string }[]) =>
      views.map((v) => (JSON.parse(`${v.head}0${v.tail}`) as { roomName: string }).roomName).sort();
    for (const room of ['a', 'b', 'c']) await start(room);
    expect(rooms(await stores.calls.listViews(ws))).toEqual(['a', 'b', 'c']);
    await redis.del(`${prefix}:{${ws}}:listseq`); // lost: the next commits count from 1 again
    for (const room of ['d', 'e', 'f', 'g']) await start(room);
    expect(Number(await redis.get(`${prefix}:{${ws}}:listseq`))).toBe(4); // past the 3 kept
    expect(rooms(await stores.calls.listViews(ws))).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('a view made from the call (none stored) is replaced when the call changes, and dropped when it ends', async () => {
    const ws = 'ws3';
    const service = serviceFor(stores, NOW);
    let n = 0;
    const say = (room: string, content: string) =>
      service.ingest(ws, room, [{ type: 'transcript', id: `t${++n}`, at: NOW + n, role: 'customer', content }], 'agent');
    const listed = async () =>
      (await stores.calls.listViews(ws)).map((v) => {
        const item = JSON.parse(`${v.head}0${v.tail}`) as { roomName: string; lastMessage: string };
        return `${item.roomName}: ${item.lastMessage}`;
      });
    await say('old-1', 'first');
    await say('old-2', 'second');
    // Calls last written before views existed: no view stored, listed from the calls themselves.
    const ids = await redis.hvals(`${prefix}:{${ws}}:active`);
    await redis.del(...ids.map((id) => `${prefix}:{${ws}}:view:${id}`));
    const dir2 = tempDir();
    const other = await openStores(loadConfig({ LIVECALLS_DATA_DIR: dir2, REDIS_URL, LIVECALLS_REDIS_PREFIX: prefix }));
    try {
      const list = async () =>
        (await other.calls.listViews(ws)).map((v) => {
          const item = JSON.parse(`${v.head}0${v.tail}`) as { roomName: string; lastMessage: string };
          return `${item.roomName}: ${item.lastMessage}`;
        });
      expect(await list()).toEqual(['old-1: first', 'old-2: second']);
      await service.ingest(ws, 'old-1', [{ type: 'call_ended', id: `e${++n}`, at: NOW + n, reason: 'ended_by_api' }], 'agent');
      await say('old-2', 'changed');
      expect(await list()).toEqual(['old-2: changed']);
      expect(await listed()).toEqual(['old-2: changed']);
    } finally {
      await other.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
