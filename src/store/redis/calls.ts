/**
 * Redis live store: the active calls of every workspace, shared by all instances. Layout (one hash tag per
 * workspace, so a workspace's keys live on one Cluster shard and one Lua script can touch them all):
 *   {P}:{ws}:call:<id>      call JSON            {P}:{ws}:active     hash room -> active call id
 *   {P}:{ws}:idle           zset room by last activity (stale expiry)
 *   {P}:{ws}:ended:<room>   last ended call id   {P}:{ws}:sid:<sid>  call id of a LiveKit room sid
 *   {P}:{ws}:seen:<call>/<event>  dedupe, 24 h TTL   {P}:{ws}:turns:<id> transcript, last TURN_CAP turns
 *   {P}:{ws}:claim:<room>|<sid>   call id of the room name going by that sid (LiveKit's or a worker's claim)
 *   {P}:{ws}:pending        ended calls not yet archived
 *   {P}:{ws}:view:<id>      list view of an active call
 *   {P}:{ws}:listseq        commit sequence        {P}:{ws}:listlog    call id by sequence of last change (see ./list-views.ts)
 *   {P}:{ws}:relay          stream of committed news for the webhook outbox, until moved (RelayStore in ../types.ts)
 *   {P}:{ws}:relay:dropped  news dropped from a full relay (see RELAY_MAX_ENTRIES)
 * and two untagged keys: {P}:workspaces (set) and {P}:sidws:<sid> (workspace of a room sid).
 * Ended calls stay 24 h (late events still find them), and are copied to the archive (PostgreSQL or the
 * embedded store) right after they end; `pending` makes that survive a crash in between.
 */
import type { Redis } from 'ioredis';
import { compareTurns, isActive, routingSidOfCall, type Call, type Turn } from '../../domain/call.ts';
import { callsInListOrder } from '../../domain/list-order.ts';
import { toListView } from '../../domain/view.ts';
import { AppError } from '../../errors.ts';
import { isOutage, within } from '../unavailable.ts';
import { foldBatch, routingSidsOf, seenKeysOf, sidsOf } from '../fold-batch.ts';
import type { CallEvent } from '../../domain/events.ts';
import type { ArchiveStore, CallFolder, CallStore, IngestResult, RelayEntry } from '../types.ts';
import { addFeedOps } from './feed.ts';
import { GuardedWrite } from './guarded-write.ts';
import { addListLogOps, createListViews } from './list-views.ts';

const DAY_S = 86_400;
/**
 * Webhook news kept per workspace until moved into the outbox (a few items per call): hours of a busy
 * workspace's calls while the outbox is away, tens of megabytes of Redis at most. Beyond it the oldest goes,
 * counted in `{P}:{ws}:relay:dropped`.
 */
export const RELAY_MAX_ENTRIES = 20_000;
/** Turns kept per call in Redis; a 30-minute call has a few hundred. */
export const TURN_CAP = 2_000;
const MAX_ATTEMPTS = 20;
const ARCHIVE_MEMO_MS = 60_000;
const ARCHIVE_MEMO_ROOMS = 10_000;

/**
 * `feedReplay`: entries kept in each workspace's live feed stream (`{P}:{ws}:feed`, see ./feed.ts), which
 * every commit appends its frames to in the same script.
 */
/**
 * `timeoutMs`: how long one batch may take once it runs (its turn in the room's queue not counted), before it
 * fails as an outage; the guard's own timeout leaves `ingest` to this.
 */
export function createRedisCalls(redis: Redis, prefix: string, archive: ArchiveStore, feedReplay = 1_000, timeoutMs?: number): CallStore {
  const k = (ws: string, ...rest: string[]) => [`${prefix}:{${ws}}`, ...rest].join(':');
  /** The call of a room name going by a sid (room names cannot contain `|`). */
  const claimKey = (ws: string, roomName: string, sid: string) => k(ws, 'claim', `${roomName}|${sid}`);
  const parse = (raw: string | null | undefined): Call | undefined => (raw ? (JSON.parse(raw) as Call) : undefined);
  /** A room within its workspace, as an in-process map key. */
  const roomKey = (ws: string, roomName: string) => `${ws}\u0000${roomName}`;
  const listViews = createListViews(
    redis,
    (ws, name) => k(ws, name),
    // Calls last written before views existed: made from the call itself, until its next change.
    async (ws, ids) => {
      const calls = await redis.mget(ids.map((id) => k(ws, 'call', id)));
      return calls.map(parse).flatMap((call) => (call && isActive(call) ? [toListView(call)] : []));
    },
  );

  async function readTurns(ws: string, callId: string): Promise<Turn[]> {
    const raw = await redis.lrange(k(ws, 'turns', callId), 0, -1);
    return raw.map((r) => JSON.parse(r) as Turn).sort(compareTurns);
  }

  async function archiveOne(ws: string, callId: string): Promise<boolean> {
    const call = parse(await redis.get(k(ws, 'call', callId)));
    if (call && !isActive(call)) await archive.put(call, await readTurns(ws, callId));
    await redis.srem(k(ws, 'pending'), callId);
    return Boolean(call);
  }

  /**
   * The archive's last ended call of a room is asked for only when Redis knows none (its `ended:` pointer
   * lives 24 h after a call ends), so the answer is a call that ended over a day ago, or none; a call of the
   * room ending now sets the pointer, which is read first. So the answer is remembered for a minute per room:
   * ingest into live rooms then does not query PostgreSQL for every batch.
   */
  const archiveMemo = new Map<string, { until: number; call: Call | undefined }>();
  async function archivedLatestEnded(ws: string, roomName: string): Promise<Call | undefined> {
    const key = roomKey(ws, roomName);
    const known = archiveMemo.get(key);
    if (known && known.until > Date.now()) return known.call;
    const call = await archive.latestEnded(ws, roomName);
    archiveMemo.delete(key);
    archiveMemo.set(key, { until: Date.now() + ARCHIVE_MEMO_MS, call });
    if (archiveMemo.size > ARCHIVE_MEMO_ROOMS) archiveMemo.delete(archiveMemo.keys().next().value as string);
    return call;
  }

  /**
   * Batches for one room from this instance run one after another: they would only make each other retry
   * (every one rereads what the other wrote), and a burst of a few dozen could exhaust the retries. Only
   * other instances' writes are left to the optimistic check.
   */
  const roomQueues = new Map<string, Promise<unknown>>();
  function serialised<T>(ws: string, roomName: string, run: () => Promise<T>): Promise<T> {
    const key = roomKey(ws, roomName);
    const result = (roomQueues.get(key) ?? Promise.resolve()).then(run, run);
    const tail = result.catch(() => undefined);
    roomQueues.set(key, tail);
    void tail.then(() => {
      if (roomQueues.get(key) === tail) roomQueues.delete(key);
    });
    return result;
  }

  /** One batch, applied with optimistic retries (another instance's write to the room's keys makes it retry). */
  async function applyBatch(
    ws: string,
    roomName: string,
    events: readonly CallEvent[],
    folder: CallFolder,
    now: number,
  ): Promise<IngestResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const w = new GuardedWrite();
      const activeKey = w.key(k(ws, 'active'));
      const endedKey = w.key(k(ws, 'ended', roomName));
      const sids = sidsOf(events);
      const claims = routingSidsOf(events);
      const [liveId, endedId, sidIds, claimIds] = await Promise.all([
        redis.hget(k(ws, 'active'), roomName),
        redis.get(k(ws, 'ended', roomName)),
        sids.length ? redis.mget(...sids.map((s) => k(ws, 'sid', s))) : Promise.resolve([]),
        claims.length ? redis.mget(...claims.map((s) => claimKey(ws, roomName, s))) : Promise.resolve([]),
      ]);
      w.checks.push({ k: activeKey, t: 'hget', f: roomName, v: liveId }, { k: endedKey, t: 'get', v: endedId });
      sids.forEach((s, i) => w.checks.push({ k: w.key(k(ws, 'sid', s)), t: 'get', v: sidIds[i] ?? null }));
      claims.forEach((s, i) => w.checks.push({ k: w.key(claimKey(ws, roomName, s)), t: 'get', v: claimIds[i] ?? null }));
      const ids = [...new Set([liveId, endedId, ...sidIds, ...claimIds].filter((x): x is string => Boolean(x)))];
      // Ids are deduplicated per call (fold-batch.ts): their seen keys are read for every call the batch may go
      // to, in the same round trip as the calls themselves.
      const idSeenKeys = seenKeysOf(events, ids);
      const [raws, idSeenFlags] = await Promise.all([
        ids.length ? redis.mget(...ids.map((id) => k(ws, 'call', id))) : Promise.resolve([]),
        idSeenKeys.length ? redis.mget(...idSeenKeys.map((key) => k(ws, 'seen', key))) : Promise.resolve([]),
      ]);
      const calls = new Map<string, Call>();
      ids.forEach((id, i) => {
        w.checks.push({ k: w.key(k(ws, 'call', id)), t: 'same', v: raws[i] ?? null });
        const call = parse(raws[i]);
        if (call) calls.set(id, call);
      });
      const bySid = new Map<string, Call>();
      sids.forEach((s, i) => {
        const call = calls.get(sidIds[i] ?? '');
        if (call) bySid.set(s, call);
      });
      const byClaim = new Map<string, Call>();
      claims.forEach((s, i) => {
        const call = calls.get(claimIds[i] ?? '');
        if (call && call.roomName === roomName) byClaim.set(s, call);
      });
      const latestEnded = (endedId && calls.get(endedId)) || (await archivedLatestEnded(ws, roomName));
      const seen = new Set(idSeenKeys.filter((_, i) => idSeenFlags[i] !== null));
      // The archive's latest ended call (no live key for it): one more read, only then.
      if (latestEnded && !ids.includes(latestEnded.id)) {
        const more = seenKeysOf(events, [latestEnded.id]);
        const flags = await redis.mget(...more.map((key) => k(ws, 'seen', key)));
        more.forEach((key, i) => flags[i] !== null && seen.add(key));
      }
      const snapshot = { active: liveId ? calls.get(liveId) : undefined, latestEnded, bySid, byClaim };
      const folded = foldBatch(ws, roomName, snapshot, events, (id) => seen.has(id), folder, now);

      for (const id of folded.appliedIds) {
        const key = w.key(k(ws, 'seen', id));
        w.checks.push({ k: key, t: 'absent' });
        w.ops.push({ k: key, op: 'set', v: '1', ex: DAY_S });
      }
      const idleKey = w.key(k(ws, 'idle'));
      const pendingKey = w.key(k(ws, 'pending'));
      // Ended calls first, so a new call of the same room (superseding) is indexed last.
      const changes = [...folded.changes].sort((a, b) => Number(isActive(a.after)) - Number(isActive(b.after)));
      const newestEnded = latestOf(changes, latestEnded);
      // Any change may change the list: logged, so every instance's next list reads that call's view again.
      addListLogOps(
        w,
        (name) => k(ws, name),
        changes.map((c) => c.after.id),
      );
      for (const { after } of changes) {
        const callKey = w.key(k(ws, 'call', after.id));
        w.ops.push({ k: callKey, op: 'set', v: JSON.stringify(after), ...(isActive(after) ? {} : { ex: DAY_S }) });
        const viewKey = w.key(k(ws, 'view', after.id));
        if (after.roomSid) w.ops.push({ k: w.key(k(ws, 'sid', after.roomSid)), op: 'set', v: after.id, ex: DAY_S });
        // The sid the call goes by within its room name, LiveKit's or a worker's claim: where a claim may lead
        // (never `sid:` or `sidws:`, which only LiveKit's word fills).
        const goesBy = routingSidOfCall(after);
        if (goesBy) w.ops.push({ k: w.key(claimKey(ws, after.roomName, goesBy)), op: 'set', v: after.id, ex: DAY_S });
        // Indexed by the call's own room: an event found the call by its LiveKit room sid may name another room.
        const room = after.roomName;
        if (isActive(after)) {
          w.ops.push(
            { k: viewKey, op: 'set', v: JSON.stringify(toListView(after)) },
            { k: activeKey, op: 'hset', f: room, v: after.id },
            { k: idleKey, op: 'zadd', s: after.lastActivityAt, m: room },
          );
        } else {
          w.ops.push({ k: viewKey, op: 'del' });
          w.ops.push({ k: activeKey, op: 'hdel_if', f: room, v: after.id });
          w.ops.push({ k: idleKey, op: 'zrem_unless_active', m: room, active: activeKey });
          w.ops.push({ k: pendingKey, op: 'sadd', m: after.id });
          if (room !== roomName) w.ops.push({ k: w.key(k(ws, 'ended', room)), op: 'set', v: after.id, ex: DAY_S });
          else if (after.id === newestEnded?.id) w.ops.push({ k: endedKey, op: 'set', v: after.id, ex: DAY_S });
        }
      }
      for (const { callId, turn } of folded.turns) {
        const turnsKey = w.key(k(ws, 'turns', callId));
        w.ops.push({ k: turnsKey, op: 'rpush_trim', v: JSON.stringify(turn), cap: TURN_CAP });
        const call = folded.changes.find((c) => c.after.id === callId)?.after;
        if (call && !isActive(call)) w.ops.push({ k: turnsKey, op: 'expire', ex: DAY_S });
      }
      if (folded.changes.length > 0) {
        addFeedOps(w, prefix, ws, folder.frames(folded.changes, now), feedReplay);
        // The webhook outbox's entries, in the same commit (a transactional outbox; see `relay` below).
        const relayKey = w.key(k(ws, 'relay'));
        const dropped = w.key(k(ws, 'relay', 'dropped'));
        for (const body of folder.relay?.(folded.changes, now) ?? []) {
          w.ops.push({ k: relayKey, op: 'xadd', v: body, max: RELAY_MAX_ENTRIES, dropped });
        }
      }
      if (w.ops.length === 0 && folded.applied === 0) return { applied: 0, duplicates: folded.duplicates, changes: [] };
      // Untagged keys (another Cluster slot), so outside the script: written BEFORE it, since both only index
      // what the commit will hold (the workspace for the sweeper, a room sid's workspace) and writing them
      // twice is harmless. After the commit only the archive copy runs, and its failure is retried by
      // archivePending: a committed batch is never answered as failed because of an index write.
      await Promise.all([
        redis.sadd(`${prefix}:workspaces`, ws),
        ...folded.changes.flatMap(({ after }) => (after.roomSid ? [redis.set(`${prefix}:sidws:${after.roomSid}`, ws, 'EX', DAY_S)] : [])),
      ]);
      if (!(await w.commit(redis))) {
        // Another instance wrote the room first. A short random pause, growing with each loss, keeps two
        // instances with queued batches for one room from re-reading in lockstep until one runs out of tries.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (attempt + 1))));
        continue;
      }

      for (const { after } of folded.changes) {
        if (!isActive(after)) await archiveOne(ws, after.id).catch(() => undefined); // retried by archivePending
      }
      return { applied: folded.applied, duplicates: folded.duplicates, changes: folded.changes, appliedIds: folded.appliedEventIds };
    }
    // Overload, not a bug: the same batch succeeds once the room is quieter.
    throw new AppError('service_unavailable', `room ${roomName} is too busy; try again`);
  }

  /**
   * The oldest relay entries, at most `limit`: the streams' lengths first (a number each; most are empty
   * between calls), then entries from the non-empty ones only, the budget shared between them, starting at
   * another workspace each time so a busy one cannot keep the others waiting.
   */
  let relayTurn = 0;
  async function takeRelayed(limit: number): Promise<RelayEntry[]> {
    const workspaces = await redis.smembers(`${prefix}:workspaces`);
    if (workspaces.length === 0) return [];
    const lengths = await replies<number>(workspaces.map((ws) => ['xlen', k(ws, 'relay')]));
    const waiting = workspaces.filter((_, i) => (lengths[i] ?? 0) > 0);
    if (waiting.length === 0) return [];
    const start = relayTurn++ % waiting.length;
    const picked = [...waiting.slice(start), ...waiting.slice(0, start)].slice(0, limit);
    const each = Math.max(1, Math.floor(limit / picked.length));
    const ranges = await replies<[string, string[]][]>(picked.map((ws) => ['xrange', k(ws, 'relay'), '-', '+', 'COUNT', String(each)]));
    return picked.flatMap((workspaceId, i) => (ranges[i] ?? []).map(([id, fields]) => ({ workspaceId, id, body: fields[1] ?? '' })));
  }

  /** The replies of a pipeline of commands, the first error thrown. */
  async function replies<T>(commands: string[][]): Promise<T[]> {
    const results = (await redis.pipeline(commands).exec()) ?? [];
    return results.map(([err, value]) => {
      if (err) throw err;
      return value as T;
    });
  }

  async function forgetRelayed(entries: readonly RelayEntry[]): Promise<void> {
    const byWorkspace = new Map<string, string[]>();
    for (const e of entries) {
      const ids = byWorkspace.get(e.workspaceId);
      if (ids) ids.push(e.id);
      else byWorkspace.set(e.workspaceId, [e.id]);
    }
    await Promise.all([...byWorkspace].map(([ws, ids]) => redis.xdel(k(ws, 'relay'), ...ids)));
  }

  const store: CallStore = {
    // Each commit's webhook news, in its workspace's stream until moved into the outbox (RelayStore).
    relay: {
      take: (limit) => within('Redis', timeoutMs, takeRelayed(limit)),
      done: (entries) => within('Redis', timeoutMs, forgetRelayed(entries)),
    },
    ingest(ws, roomName, events, folder, now) {
      return serialised(ws, roomName, () => within('Redis', timeoutMs, applyBatch(ws, roomName, events, folder, now)));
    },

    async listActive(ws) {
      const ids = await redis.hvals(k(ws, 'active'));
      if (ids.length === 0) return [];
      const raws = await redis.mget(...ids.map((id) => k(ws, 'call', id)));
      return raws
        .map(parse)
        .filter((c): c is Call => c !== undefined)
        .sort(callsInListOrder);
    },
    listViews(ws) {
      return listViews.read(ws);
    },
    async getActive(ws, roomName) {
      const id = await redis.hget(k(ws, 'active'), roomName);
      return id ? parse(await redis.get(k(ws, 'call', id))) : undefined;
    },
    countActive(ws) {
      return within('Redis', timeoutMs, redis.hlen(k(ws, 'active')));
    },
    async latestEnded(ws, roomName) {
      const id = await redis.get(k(ws, 'ended', roomName));
      const call = id ? parse(await redis.get(k(ws, 'call', id))) : undefined;
      return call ?? archive.latestEnded(ws, roomName);
    },
    async getCall(ws, callId) {
      return parse(await redis.get(k(ws, 'call', callId))) ?? archive.get(ws, callId);
    },
    async transcript(ws, callId) {
      if (await redis.exists(k(ws, 'call', callId))) return readTurns(ws, callId);
      return archive.transcript(ws, callId);
    },
    async workspaceOfRoomSid(sid) {
      return (await redis.get(`${prefix}:sidws:${sid}`)) ?? undefined;
    },
    async listIdle(before, limit) {
      const out: { workspaceId: string; roomName: string }[] = [];
      for (const ws of await redis.smembers(`${prefix}:workspaces`)) {
        const rooms = await redis.zrangebyscore(k(ws, 'idle'), '-inf', `(${before}`, 'LIMIT', 0, limit - out.length);
        for (const roomName of rooms) out.push({ workspaceId: ws, roomName });
        if (out.length >= limit) break;
      }
      return out;
    },
    async pruneSeen() {
      return 0; // dedupe keys expire by themselves
    },
    async archivePending(onFailure) {
      let n = 0;
      for (const ws of await redis.smembers(`${prefix}:workspaces`)) {
        for (const id of await redis.smembers(k(ws, 'pending'))) {
          try {
            if (await archiveOne(ws, id)) n++;
          } catch (err) {
            if (isOutage(err) || redis.status !== 'ready') throw err;
            onFailure?.({ workspaceId: ws, callId: id, err });
          }
        }
      }
      return n;
    },
  };
  return store;
}

/** The most recently ended call among the batch's changes and the one known before. */
function latestOf(changes: { after: Call }[], before: Call | undefined): Call | undefined {
  let latest = before;
  for (const { after } of changes) {
    if (!isActive(after) && (!latest || (after.endedAt ?? 0) >= (latest.endedAt ?? 0))) latest = after;
  }
  return latest;
}
