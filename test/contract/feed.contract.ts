/**
 * The live feed contract, run against every backend: order, per-workspace replay, the replay window, and
 * (for shared backends) entries crossing from one instance to another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEntry, LiveFeed } from '../../src/store/types.ts';

export interface FeedBackend {
  /** A fresh feed keeping `replay` entries per workspace; `peer` opens another instance on the same place. */
  open(replay: number): Promise<{ feed: LiveFeed; peer?: () => Promise<LiveFeed>; close(): Promise<void> }>;
}

function collector(feed: LiveFeed) {
  const got: FeedEntry[] = [];
  const stop = feed.subscribe((e) => got.push(e));
  return {
    got,
    stop,
    async until(n: number, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} entries, got ${got.length}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return got;
    },
  };
}

const entry = (n: number) => ({ event: 'call.updated', data: JSON.stringify({ n }) });

export function feedContract(name: string, backend: FeedBackend): void {
  describe(`live feed contract: ${name}`, () => {
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of closers.splice(0)) await c();
    });
    async function open(replay = 100) {
      const opened = await backend.open(replay);
      closers.push(opened.close);
      return opened;
    }

    it('tells subscribers every entry in order, with increasing ids', async () => {
      const { feed } = await open();
      const sub = collector(feed);
      await feed.publish('ws1', [entry(1), entry(2)]);
      await feed.publish('ws1', [entry(3)]);
      const got = await sub.until(3);
      expect(got.map((e) => JSON.parse(e.data) as { n: number }).map((d) => d.n)).toEqual([1, 2, 3]);
      expect(got.every((e) => e.workspaceId === 'ws1' && e.event === 'call.updated')).toBe(true);
      expect(feed.compare(got[0]?.id ?? '', got[1]?.id ?? '')).toBeLessThan(0);
      expect(feed.compare(got[1]?.id ?? '', got[2]?.id ?? '')).toBeLessThan(0);
      expect(feed.compare(got[2]?.id ?? '', got[2]?.id ?? '')).toBe(0);
      expect(await feed.head('ws1')).toBe(got[2]?.id);
      sub.stop();
    });

    it('replays what followed an id, for that workspace only; an empty log replays everything from its head', async () => {
      const { feed } = await open();
      const empty = await feed.head('ws1');
      expect(await feed.since('ws1', empty)).toEqual([]);
      await feed.publish('ws1', [entry(1)]);
      await feed.publish('ws2', [entry(99)]);
      const mark = await feed.head('ws1');
      await feed.publish('ws1', [entry(2), entry(3)]);
      const after = await feed.since('ws1', mark);
      expect(after?.map((e) => (JSON.parse(e.data) as { n: number }).n)).toEqual([2, 3]);
      expect((await feed.since('ws1', empty))?.length).toBe(3);
      expect(await feed.since('ws1', await feed.head('ws1'))).toEqual([]);
    });

    it('answers "snapshot needed" for ids it never issued and for ids older than the window', async () => {
      const { feed } = await open(10);
      await feed.publish('ws1', [entry(0)]);
      const first = await feed.head('ws1');
      for (let i = 1; i <= 300; i++) await feed.publish('ws1', [entry(i)]);
      expect(await feed.since('ws1', first)).toBeUndefined();
      expect(await feed.since('ws1', 'not-an-id')).toBeUndefined();
      expect(await feed.since('ws1', '99999999999999-0')).toBeUndefined();
      // Recent ids still replay exactly.
      const recent = await feed.head('ws1');
      await feed.publish('ws1', [entry(301)]);
      expect((await feed.since('ws1', recent))?.map((e) => (JSON.parse(e.data) as { n: number }).n)).toEqual([301]);
    });

    it('carries entries between instances sharing the store, when the backend is shared', async (ctx) => {
      const { feed, peer } = await open();
      if (!peer) return ctx.skip();
      const other = await peer();
      const sub = collector(other);
      await feed.publish('ws1', [entry(1)]);
      await other.publish('ws1', [entry(2)]);
      await feed.publish('ws1', [entry(3)]);
      const got = await sub.until(3);
      expect(got.map((e) => (JSON.parse(e.data) as { n: number }).n)).toEqual([1, 2, 3]);
      // Ids from one instance resume on the other.
      expect((await other.since('ws1', got[0]?.id ?? ''))?.length).toBe(2);
      sub.stop();
    });
  });
}
