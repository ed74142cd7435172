/** The live feed contract on the in-process log and on Redis (real server), plus Redis-only behaviour. */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createMemoryFeed } from '../../src/store/embedded/feed.ts';
import { connectRedis } from '../../src/store/open.ts';
import { createRedisFeed, type RedisFeed } from '../../src/store/redis/feed.ts';
import type { FeedEntry } from '../../src/store/types.ts';
import { dropRedisPrefix, randomName, redisReachable, REDIS_URL } from '../helpers/backends.ts';
import { feedContract } from './feed.contract.ts';

feedContract('in-process (embedded)', {
  open: async (replay) => ({ feed: createMemoryFeed(replay), close: async () => undefined }),
});

async function openRedisFeed(prefix: string, replay: number): Promise<{ feed: RedisFeed; redis: Redis }> {
  const redis = await connectRedis(REDIS_URL);
  const feed = createRedisFeed(redis, await connectRedis(REDIS_URL, undefined, `${prefix}:feed`), prefix, replay);
  return { feed, redis };
}

if (await redisReachable()) {
  feedContract('Redis', {
    open: async (replay) => {
      const prefix = randomName('lcfeed');
      const opened: { feed: RedisFeed; redis: Redis }[] = [await openRedisFeed(prefix, replay)];
      const first = opened[0];
      if (!first) throw new Error('unreachable');
      return {
        feed: first.feed,
        peer: async () => {
          const more = await openRedisFeed(prefix, replay);
          opened.push(more);
          return more.feed;
        },
        close: async () => {
          for (const o of opened) {
            o.feed.close();
            o.redis.disconnect();
          }
          await dropRedisPrefix(prefix);
        },
      };
    },
  });

  describe('Redis feed only', () => {
    it('reports a gap when its subscription drops, and the missed entries can be fetched after it', async () => {
      const prefix = randomName('lcfeed');
      const { feed, redis } = await openRedisFeed(prefix, 100);
      const admin = new Redis(REDIS_URL);
      try {
        const got: FeedEntry[] = [];
        let gaps = 0;
        feed.subscribe(
          (e) => got.push(e),
          () => gaps++,
        );
        await feed.publish('ws', [{ event: 'call.started', data: '{}' }]);
        while (got.length < 1) await new Promise((r) => setTimeout(r, 5));
        const lastSeen = got[0]?.id ?? '';

        const list = (await admin.client('LIST')) as string;
        const line = list.split('\n').find((l) => l.includes(` name=${prefix}:feed `));
        const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
        expect(id).toBeDefined();
        await admin.client('KILL', 'ID', id ?? '');
        // Published while the subscriber is away: pub/sub drops it for that subscriber.
        await feed.publish('ws', [{ event: 'call.updated', data: '{"missed":true}' }]);
        const deadline = Date.now() + 5_000;
        while (gaps === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(gaps).toBe(1);
        const missed = await feed.since('ws', lastSeen);
        expect(missed?.map((e) => e.data)).toContain('{"missed":true}');
      } finally {
        admin.disconnect();
        feed.close();
        redis.disconnect();
        await dropRedisPrefix(prefix);
      }
    });
  });
}
