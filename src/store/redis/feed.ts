/**
 * The live log on Redis, shared by every instance: each workspace's entries go to a stream
 * `{P}:{ws}:feed` (capped near `replay` entries, so a client can resume on any instance), and each entry is
 * also published on the channel `{P}:feed`, which every instance's subscriber connection hears.
 *
 * Why one Lua script appends and publishes (the `feed` op of ./guarded-write.ts): the script runs atomically,
 * so the order in which subscribers hear entries is the order of their stream ids, whichever instance published them; a client never sees an
 * older id after a newer one. Pub/sub drops what a disconnected subscriber missed, so a reconnect is
 * reported to the subscriber (`onGap`), which resumes its clients from the stream.
 */
import type { Redis } from 'ioredis';
import type { FeedEntry, LiveFeed } from '../types.ts';
import { GuardedWrite } from './guarded-write.ts';

/** The stream a workspace's entries are appended to. */
export function feedStreamKey(prefix: string, workspaceId: string): string {
  return `${prefix}:{${workspaceId}}:feed`;
}

/**
 * Adds the appends of `entries` to a guarded commit (see ./guarded-write.ts, op `feed`): the one way entries
 * reach the feed, whether a call commit carries them or `publish` is called on its own.
 */
export function addFeedOps(
  w: GuardedWrite,
  prefix: string,
  workspaceId: string,
  entries: readonly { event: string; data: string }[],
  replay: number,
): void {
  if (entries.length === 0) return;
  const k = w.key(feedStreamKey(prefix, workspaceId));
  for (const e of entries) w.ops.push({ k, op: 'feed', e: e.event, d: e.data, max: replay, ch: `${prefix}:feed`, ws: workspaceId });
}

const STREAM_ID = /^(\d+)-(\d+)$/;

function parseId(id: string): [bigint, bigint] | undefined {
  const m = STREAM_ID.exec(id);
  return m ? [BigInt(m[1] ?? '0'), BigInt(m[2] ?? '0')] : undefined;
}

function compareIds(a: string, b: string): number {
  const x = parseId(a) ?? [-1n, -1n];
  const y = parseId(b) ?? [-1n, -1n];
  return x[0] !== y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1;
}

/** XINFO STREAM answers a flat [name, value, ...] list. */
function infoField(info: unknown, name: string): unknown {
  if (!Array.isArray(info)) return undefined;
  for (let i = 0; i + 1 < info.length; i += 2) if (info[i] === name) return info[i + 1];
  return undefined;
}

export interface RedisFeed extends LiveFeed {
  close(): void;
}

/**
 * `subscriber` is a dedicated connection (a subscribed connection can run nothing else); this feed owns
 * and closes it.
 */
export function createRedisFeed(redis: Redis, subscriber: Redis, prefix: string, replay: number): RedisFeed {
  const channel = `${prefix}:feed`;
  const streamKey = (ws: string) => feedStreamKey(prefix, ws);
  const listeners = new Set<{ entry: (e: FeedEntry) => void; gap: (() => void) | undefined }>();

  let subscribed = false;
  let lostSince = false;
  subscriber.on('message', (_channel: string, message: string) => {
    const a = message.indexOf('\n');
    const b = message.indexOf('\n', a + 1);
    const c = message.indexOf('\n', b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const entry: FeedEntry = {
      workspaceId: message.slice(0, a),
      id: message.slice(a + 1, b),
      event: message.slice(b + 1, c),
      data: message.slice(c + 1),
    };
    for (const l of listeners) l.entry(entry);
  });
  subscriber.on('close', () => (lostSince = subscribed));
  subscriber.on('ready', () => {
    if (!lostSince) return;
    lostSince = false;
    // ioredis resubscribes by itself, but only after 'ready'. Subscribing again (a no-op for Redis) answers
    // once the subscription is live; only then can subscribers fetch what they missed without a new hole.
    subscriber.subscribe(channel).then(
      () => {
        for (const l of listeners) l.gap?.();
      },
      () => (lostSince = true),
    );
  });
  const ready = subscriber.subscribe(channel).then(() => (subscribed = true));

  return {
    async publish(workspaceId, entries) {
      const w = new GuardedWrite();
      addFeedOps(w, prefix, workspaceId, entries, replay);
      if (w.ops.length > 0) await w.commit(redis);
    },
    async since(workspaceId, afterId) {
      if (!parseId(afterId)) return undefined;
      const results = await redis.multi().xrange(streamKey(workspaceId), `(${afterId}`, '+').xinfo('STREAM', streamKey(workspaceId)).exec();
      const [rangeResult, infoResult] = results ?? [];
      if (!infoResult || infoResult[0]) return afterId === '0-0' ? [] : undefined; // no stream: nothing kept
      const info = infoResult[1];
      const lastId = String(infoField(info, 'last-generated-id') ?? '0-0');
      // `entries-added` exists from Redis 7.0; without it, assume the stream was trimmed (a snapshot, never a hole).
      const added = infoField(info, 'entries-added');
      const trimmed = added === undefined || Number(added) > Number(infoField(info, 'length') ?? 0);
      const first = infoField(info, 'first-entry');
      const firstId = Array.isArray(first) ? String(first[0]) : lastId;
      // An id we never issued, or one older than the oldest entry kept after a trim (what followed it may be
      // gone): the client needs a snapshot.
      if (compareIds(afterId, lastId) > 0 || (trimmed && compareIds(afterId, firstId) < 0)) return undefined;
      const range = (rangeResult?.[1] ?? []) as [string, string[]][];
      return range.map(([id, fields]) => ({ id, workspaceId, event: fields[1] ?? '', data: fields[3] ?? '' }));
    },
    async head(workspaceId) {
      const last = (await redis.xrevrange(streamKey(workspaceId), '+', '-', 'COUNT', 1))[0];
      return last?.[0] ?? '0-0';
    },
    compare: compareIds,
    subscribe(entry, gap) {
      const l = { entry, gap };
      listeners.add(l);
      void ready.catch(() => gap?.());
      return () => listeners.delete(l);
    },
    close() {
      subscriber.disconnect();
    },
  };
}
