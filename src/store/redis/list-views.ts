/**
 * The list's read path on Redis. A wallboard in every workspace polls the list all day, and a busy
 * workspace's calls change many times a second, so a list must cost what changed, not what is listed:
 *  - every commit also writes the call's list view (`{P}:{ws}:view:<id>`, a few hundred bytes) beside the
 *    call itself (kilobytes: it carries up to 50 live turns), and deletes it when the call ends; listing
 *    reads views, never calls;
 *  - every commit that changes calls also takes the workspace's next list sequence number
 *    (`{P}:{ws}:listseq`, INCR) and records it, in the log `{P}:{ws}:listlog` (a sorted set: call id scored
 *    by the sequence of its last change), against each call it changed. The log keeps the last `LOG_SPAN`
 *    sequence numbers, so it holds one entry per call changed lately, however often each changed;
 *  - each instance keeps, per workspace, the views it read and the sequence number it read them at
 *    (`seq`). A list reads the current sequence and its epoch (one MGET): nothing new costs that one call.
 *    Otherwise a script reads them and the ids logged after `seq` atomically (so the log cannot be trimmed
 *    in between), and only the views of those ids are read (a view gone means the call ended) and patched
 *    into the list, which stays sorted.
 * The sequence is read before the views, so a view read is at least as new as the sequence it is kept
 * under: a commit landing in between only makes the next list read that call again. Each read is correct
 * for the request that made it (it sees every commit acknowledged before the request began); reads of one
 * workspace running at once are applied only if they read a sequence at least as new as the one kept.
 * The sequence has an epoch (`{P}:{ws}:listepoch`, a random token set by the commit that takes number 1):
 * a sequence lost (FLUSH, eviction, a failover that lost writes) starts again under a new epoch, which
 * every instance notices even once the new numbers have caught up with the ones it kept.
 * The whole list is read again when the instance has none, when it is too far behind the log, when the
 * epoch changed, and at least every `FULL_EVERY_MS` whatever the log says, which bounds what a writer that
 * does not log (an older instance mid-upgrade) can hide.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { lowerBound, viewsInListOrder } from '../../domain/list-order.ts';
import type { ListView } from '../../domain/view.ts';
import { evalScript, sha1, type GuardedWrite } from './guarded-write.ts';

/** Sequence numbers the log covers; a list further behind than half of that reads everything again. */
export const LOG_SPAN = 10_000;
const FULL_EVERY_MS = 2_000;

/** Adds to a guarded commit: the next sequence number, logged against every call in `callIds`. */
export function addListLogOps(w: GuardedWrite, keyOf: (name: string) => string, callIds: readonly string[]): void {
  if (callIds.length === 0) return;
  w.ops.push({
    k: w.key(keyOf('listseq')),
    op: 'listlog',
    log: w.key(keyOf('listlog')),
    epoch: w.key(keyOf('listepoch')),
    token: randomBytes(9).toString('base64url'),
    ids: [...callIds],
    span: LOG_SPAN,
  });
}

/** Atomically: the current sequence, its epoch and the ids logged after `ARGV[1]`. */
const READ_LOG = `
local seq = redis.call('GET', KEYS[1]) or '0'
local epoch = redis.call('GET', KEYS[3]) or ''
return {seq, epoch, redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')}
`;
const READ_LOG_SHA = sha1(READ_LOG);

interface Entry {
  /** The stored view's JSON; '' for a view made from the call (none stored). */
  raw: string;
  view: ListView;
}

interface WorkspaceList {
  /** The views of the active calls by id, as read, with the JSON they were parsed from. */
  byId: Map<string, Entry>;
  seq: number;
  epoch: string;
  /** When the whole list was last read (performance.now()). */
  fullAt: number;
  /** In list order; a new array whenever anything in it changed. */
  sorted: readonly ListView[];
}

/**
 * `keyOf(ws, name)` is the key of `name` in the workspace; `legacyViews` makes the views of active calls
 * that have none stored (last written before views existed), from the calls themselves.
 */
export function createListViews(
  redis: Redis,
  keyOf: (ws: string, name: string) => string,
  legacyViews: (ws: string, ids: readonly string[]) => Promise<ListView[]>,
) {
  const workspaces = new Map<string, WorkspaceList>();

  async function sequenceOf(ws: string): Promise<{ seq: number; epoch: string }> {
    const [seq, epoch] = await redis.mget(keyOf(ws, 'listseq'), keyOf(ws, 'listepoch'));
    return { seq: Number(seq ?? 0), epoch: epoch ?? '' };
  }

  /** The stored views of `ids` (JSON, null where none). */
  async function viewsOf(ws: string, ids: readonly string[]): Promise<(string | null)[]> {
    return ids.length ? redis.mget(ids.map((id) => keyOf(ws, `view:${id}`))) : [];
  }

  async function readAll(ws: string): Promise<readonly ListView[]> {
    const fullAt = performance.now();
    const { seq, epoch } = await sequenceOf(ws);
    const ids = await redis.hvals(keyOf(ws, 'active'));
    const raws = await viewsOf(ws, ids);
    const previous = workspaces.get(ws)?.byId;
    const byId = new Map<string, Entry>();
    const views: ListView[] = [];
    const missing: string[] = [];
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (raw === null || raw === undefined) return void missing.push(id);
      const hit = previous?.get(id);
      const entry = hit?.raw === raw ? hit : { raw, view: JSON.parse(raw) as ListView };
      byId.set(id, entry);
      views.push(entry.view);
    });
    if (missing.length > 0) {
      // Kept like the others, so that a later change of the call (or its end) replaces this view.
      for (const view of await legacyViews(ws, missing)) {
        byId.set(view.id, { raw: '', view });
        views.push(view);
      }
    }
    const sorted = views.sort(viewsInListOrder);
    // A whole read replaces what is kept, whichever sequence that had: it is how a lost key recovers.
    workspaces.set(ws, { byId, seq, epoch, fullAt, sorted });
    return sorted;
  }

  /** Reads the views of `ids` (logged from `base` to `seq`) and patches them in, unless a newer read landed first. */
  async function patch(ws: string, epoch: string, base: number, seq: number, ids: readonly string[]): Promise<readonly ListView[]> {
    const raws = await viewsOf(ws, ids);
    const kept = workspaces.get(ws);
    // Replaced meanwhile by a read from before `base`, or under another epoch.
    if (!kept || kept.epoch !== epoch || kept.seq < base) return readAll(ws);
    if (kept.seq > seq) return kept.sorted; // a newer read landed first: it covers this one
    const sorted = [...kept.sorted];
    ids.forEach((id, i) => {
      const raw = raws[i] ?? null;
      const old = kept.byId.get(id);
      if (old?.raw === raw) return;
      if (old) {
        const at = lowerBound(sorted, old.view, viewsInListOrder);
        if (sorted[at] === old.view) sorted.splice(at, 1);
        kept.byId.delete(id);
      }
      if (raw === null) return; // ended (its view is deleted with it)
      const entry = { raw, view: JSON.parse(raw) as ListView };
      kept.byId.set(id, entry);
      sorted.splice(lowerBound(sorted, entry.view, viewsInListOrder), 0, entry.view);
    });
    kept.seq = seq;
    kept.sorted = sorted;
    return sorted;
  }

  return {
    /** The active calls' list views, in list order: the same array as last time while nothing changed. */
    async read(ws: string): Promise<readonly ListView[]> {
      const kept = workspaces.get(ws);
      if (!kept || performance.now() - kept.fullAt >= FULL_EVERY_MS) return readAll(ws);
      const base = kept.seq;
      // Most reads find nothing new: one MGET says so (the script below is for when something is).
      const now = await sequenceOf(ws);
      if (now.seq === base && now.epoch === kept.epoch) return kept.sorted;
      const keys = [keyOf(ws, 'listseq'), keyOf(ws, 'listlog'), keyOf(ws, 'listepoch')];
      const [rawSeq, epoch, ids] = (await evalScript(redis, READ_LOG_SHA, READ_LOG, keys, [String(base)])) as [string, string, string[]];
      const seq = Number(rawSeq);
      if (epoch !== kept.epoch || seq < base || seq - base > LOG_SPAN / 2) return readAll(ws);
      // Nothing logged since `base`: what was kept then (or patched since) is current.
      if (seq === base) return kept.sorted;
      return patch(ws, epoch, base, seq, ids);
    },
  };
}
