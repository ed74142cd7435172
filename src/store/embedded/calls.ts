/**
 * Embedded call store: SQLite is the record, and the active calls are also held in memory (loaded at open)
 * so reads never touch the disk. One process owns a data directory's calls; every batch is one SQLite
 * transaction, so an acknowledged batch is on disk and a crash mid-batch leaves nothing half-applied.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { isActive, startedAt, type Call, type Turn } from '../../domain/call.ts';
import type { CallEvent } from '../../domain/events.ts';
import { foldBatch, routingSidsOf, sidsOf } from '../fold-batch.ts';
import { ActiveRooms } from './active-rooms.ts';
import { callRows } from './call-rows.ts';
import { historyIndexer } from './history.ts';
import type { ArchiveStore, CallFolder, CallStore, IngestResult, LiveFeed, OutboxContext, RelayEntry } from '../types.ts';
import type { OutboxWriter } from './webhooks.ts';
import { isOutage } from '../unavailable.ts';

/** A take from the relay leaves room for at least this many workspaces (see selectRelay). */
const RELAY_SHARES = 4;

interface CallRow {
  state: string;
}

/**
 * `feed`: the live feed each committed batch's frames are appended to.
 * `archive`: an external archive (PostgreSQL) that ended calls are copied to; without one, this store is
 * its own archive. A copy that fails is remembered in `archive_pending` and retried by `archivePending`.
 * `outbox`: when the webhook outbox is in this same database, each batch's outgoing webhook messages
 * (`CallFolder.outbox`) are written in the batch's transaction: a transactional outbox, so no crash can
 * commit a change without its webhooks. Without it (the outbox in PostgreSQL), each transaction keeps the
 * batch's news in `webhook_relay` instead, for the relay to move there (`CallStore.relay`).
 */
export function createEmbeddedCalls(
  db: Database.Database,
  archive?: ArchiveStore,
  feed?: LiveFeed,
  log?: Logger,
  outbox?: OutboxWriter,
): CallStore {
  /** workspaceId -> roomName -> active call (kept in list order too) */
  const active = new Map<string, ActiveRooms>();
  const rows = callRows(db);
  for (const call of rows.active()) roomsOf(call.workspaceId).set(call.roomName, call);

  function roomsOf(workspaceId: string): ActiveRooms {
    let rooms = active.get(workspaceId);
    if (!rooms) active.set(workspaceId, (rooms = new ActiveRooms()));
    return rooms;
  }

  const seenInsert = db.prepare('INSERT OR IGNORE INTO seen_events (workspace_id, id, seen_at) VALUES (?, ?, ?)');
  // `room_sid <> ''` lets SQLite use the partial index calls_room_sid (it cannot prove that of a bound value);
  // without it every webhook scanned all of the workspace's calls, or all calls.
  const selectBySid = db.prepare<[string, string], CallRow>(
    "SELECT state FROM calls WHERE workspace_id = ? AND room_sid = ? AND room_sid <> ''",
  );
  // The call of this room name going by a sid (LiveKit's, else a worker's claim, never proof, so not in
  // room_sid): among the room name's recent calls, the only ones a worker still sends events for.
  const selectByClaimedSid = db.prepare<[string, string, string, string], CallRow>(
    `SELECT state FROM (SELECT room_sid, state FROM calls WHERE workspace_id = ? AND room_name = ? ORDER BY active DESC, ended_at DESC LIMIT 20)
     WHERE room_sid = ? OR (room_sid = '' AND json_extract(state, '$.claimedRoomSid') = ?)`,
  );
  const selectLatestEnded = db.prepare<[string, string], CallRow>(
    'SELECT state FROM calls WHERE workspace_id = ? AND room_name = ? AND active = 0 ORDER BY ended_at DESC LIMIT 1',
  );
  const selectById = db.prepare<[string, string], CallRow>('SELECT state FROM calls WHERE workspace_id = ? AND id = ?');
  const upsertCall = db.prepare(
    `INSERT INTO calls (id, workspace_id, room_name, room_sid, active, started_at, ended_at, last_activity_at, state)
     VALUES (@id, @workspaceId, @roomName, @roomSid, @active, @startedAt, @endedAt, @lastActivityAt, @state)
     ON CONFLICT(id) DO UPDATE SET room_sid = excluded.room_sid, active = excluded.active,
       started_at = excluded.started_at, ended_at = excluded.ended_at,
       last_activity_at = excluded.last_activity_at, state = excluded.state`,
  );
  const insertTurn = db.prepare('INSERT OR IGNORE INTO turns (call_id, id, role, content, at) VALUES (?, ?, ?, ?, ?)');
  const selectTurns = db.prepare<[string], Turn>('SELECT id, role, content, at FROM turns WHERE call_id = ? ORDER BY at, id');
  const selectWorkspaceBySid = db.prepare<[string], { workspace_id: string }>(
    "SELECT workspace_id FROM calls WHERE room_sid = ? AND room_sid <> '' LIMIT 1",
  );
  const selectIdle = db.prepare<[number, number], { workspace_id: string; room_name: string }>(
    'SELECT workspace_id, room_name FROM calls WHERE active = 1 AND last_activity_at < ? LIMIT ?',
  );
  const deleteSeen = db.prepare('DELETE FROM seen_events WHERE seen_at < ?');

  const parse = rows.parse;
  const indexEnded = historyIndexer(db);

  const insertPending = db.prepare('INSERT OR IGNORE INTO archive_pending (call_id) VALUES (?)');
  const deletePending = db.prepare('DELETE FROM archive_pending WHERE call_id = ?');
  const selectPending = db.prepare<[], { call_id: string; state: string }>(
    'SELECT p.call_id, c.state FROM archive_pending p JOIN calls c ON c.id = p.call_id LIMIT 500',
  );

  /** Copies one ended call to the external archive; on success it is no longer pending. */
  async function copyToArchive(call: Call): Promise<void> {
    if (!archive) return;
    await archive.put(call, selectTurns.all(call.id));
    deletePending.run(call.id);
  }

  const selectSeen = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM seen_events WHERE workspace_id = ? AND id = ?');

  /**
   * Group commit. The commit was the largest fixed cost of a request (WAL frames for every touched page, and
   * the checkpoints they bring; an fsync with LIVECALLS_SYNC=full), so batches that arrive together (within one
   * turn of the event loop) are applied in ONE transaction, each in its own savepoint, and each is answered only
   * once that transaction has committed: acknowledged still means durable. A batch that throws rolls back
   * alone; a commit that fails fails every batch of the group, and nothing of it reaches memory.
   */
  interface Queued {
    workspaceId: string;
    roomName: string;
    events: readonly CallEvent[];
    folder: CallFolder;
    now: number;
    resolve(result: IngestResult): void;
    reject(err: unknown): void;
  }
  let queued: Queued[] = [];
  /** What the group being applied made of each room's active call (null: none), not yet in `active`. */
  const uncommitted = new Map<string, { workspaceId: string; roomName: string; call: Call | null }>();
  const roomKey = (workspaceId: string, roomName: string) => `${workspaceId}\u0000${roomName}`;

  function activeIn(workspaceId: string, roomName: string): Call | undefined {
    const pending = uncommitted.get(roomKey(workspaceId, roomName));
    return pending ? (pending.call ?? undefined) : roomsOf(workspaceId).get(roomName);
  }

  const ingestTx = db.transaction(
    (workspaceId: string, roomName: string, events: readonly CallEvent[], folder: CallFolder, now: number): IngestResult => {
      const bySid = new Map<string, Call>();
      for (const sid of sidsOf(events)) {
        const call = parse(selectBySid.get(workspaceId, sid));
        if (call) bySid.set(sid, call);
      }
      const byClaim = new Map<string, Call>();
      for (const sid of routingSidsOf(events)) {
        const call = parse(selectByClaimedSid.get(workspaceId, roomName, sid, sid));
        if (call) byClaim.set(sid, call);
      }
      const snapshot = {
        active: activeIn(workspaceId, roomName),
        latestEnded: parse(selectLatestEnded.get(workspaceId, roomName)),
        bySid,
        byClaim,
      };
      const seen = (id: string) => selectSeen.get(workspaceId, id) !== undefined;
      const folded = foldBatch(workspaceId, roomName, snapshot, events, seen, folder, now);
      for (const id of folded.appliedIds) seenInsert.run(workspaceId, id, now);
      for (const { after } of folded.changes) write(after);
      for (const { callId, turn } of folded.turns) insertTurn.run(callId, turn.id, turn.role, turn.content, turn.at);
      // After its turns: the history's search document holds the whole transcript.
      for (const { after } of folded.changes) if (!isActive(after)) indexEnded(after);
      if (archive) for (const { after } of folded.changes) if (!isActive(after)) insertPending.run(after.id);
      // After its turns too: `call.ended` carries the whole transcript.
      if (outbox && folder.outbox && folded.changes.length > 0) {
        const context: OutboxContext = {
          wants: (type) => outbox.wants(workspaceId, type),
          transcript: (callId) => selectTurns.all(callId),
        };
        for (const message of folder.outbox(folded.changes, now, context)) outbox.write(message, now);
      } else if (!outbox && folder.relay && folded.changes.length > 0) {
        for (const body of folder.relay(folded.changes, now)) insertRelay.run(workspaceId, body);
      }
      return { applied: folded.applied, duplicates: folded.duplicates, changes: folded.changes, appliedIds: folded.appliedEventIds };
    },
  );

  type Outcome = { ok: true; result: IngestResult } | { ok: false; err: unknown };

  const groupTx = db.transaction((group: readonly Queued[]): Outcome[] =>
    group.map((q): Outcome => {
      try {
        // Nested in the group's transaction, so better-sqlite3 runs it in a savepoint.
        const result = ingestTx(q.workspaceId, q.roomName, q.events, q.folder, q.now);
        for (const { after } of result.changes) {
          const key = roomKey(q.workspaceId, after.roomName);
          const current = activeIn(q.workspaceId, after.roomName);
          if (isActive(after)) uncommitted.set(key, { workspaceId: q.workspaceId, roomName: after.roomName, call: after });
          else if (current?.id === after.id) uncommitted.set(key, { workspaceId: q.workspaceId, roomName: after.roomName, call: null });
        }
        return { ok: true, result };
      } catch (err) {
        // SQLite itself rolled the whole transaction back (disk full, I/O error): the group fails.
        if (!db.inTransaction) throw err;
        return { ok: false, err };
      }
    }),
  );

  function flush(): void {
    const group = queued;
    queued = [];
    let outcomes: Outcome[];
    try {
      outcomes = groupTx.immediate(group);
    } catch (err) {
      uncommitted.clear();
      for (const q of group) q.reject(err);
      return;
    }
    // The transaction committed: only now does memory follow. Nothing from here on may throw: this runs from
    // setImmediate (an exception would end the process) and every batch of the group is durable, so each
    // is answered as applied whatever fails after.
    for (const { workspaceId, roomName, call } of uncommitted.values()) {
      afterCommit('memory', workspaceId, () => {
        if (call) roomsOf(workspaceId).set(roomName, call);
        else roomsOf(workspaceId).delete(roomName);
      });
    }
    uncommitted.clear();
    group.forEach((q, i) => {
      const outcome = outcomes[i];
      // In commit order, before any other group can commit (the in-process feed appends synchronously).
      if (outcome?.ok && outcome.result.changes.length > 0) {
        const { changes } = outcome.result;
        afterCommit('feed', q.workspaceId, () => feed?.publish(q.workspaceId, q.folder.frames(changes, q.now)));
      }
      if (outcome?.ok) q.resolve(outcome.result);
      else q.reject(outcome ? outcome.err : new Error('batch was not applied'));
    });
  }

  /** A step after the commit: a failure is a bug, logged with its stack, never thrown (see `flush`). */
  function afterCommit(step: 'memory' | 'feed', workspaceId: string, run: () => Promise<void> | void): void {
    const failed = (err: unknown) =>
      log?.error({ err, workspaceId, step }, 'a committed batch could not be fully applied after its commit');
    try {
      run()?.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  function write(call: Call): void {
    upsertCall.run({
      id: call.id,
      workspaceId: call.workspaceId,
      roomName: call.roomName,
      roomSid: call.roomSid,
      active: isActive(call) ? 1 : 0,
      startedAt: startedAt(call),
      endedAt: call.endedAt,
      lastActivityAt: call.lastActivityAt,
      state: rows.state(call),
    });
  }

  const insertRelay = db.prepare('INSERT INTO webhook_relay (workspace_id, body) VALUES (?, ?)');
  // The oldest entries, at most RELAY_SHARE of each workspace's: a workspace with a long relay (or one held
  // up by an entry that cannot be moved yet) leaves room in every take for the others.
  const selectRelay = db.prepare<[number, number], { seq: number; workspace_id: string; body: string }>(
    `SELECT seq, workspace_id, body FROM (
       SELECT seq, workspace_id, body, row_number() OVER (PARTITION BY workspace_id ORDER BY seq) AS n FROM webhook_relay)
     WHERE n <= ? ORDER BY seq LIMIT ?`,
  );
  const deleteRelay = db.prepare('DELETE FROM webhook_relay WHERE seq = ?');
  const forgetRelayed = db.transaction((entries: readonly RelayEntry[]) => {
    for (const e of entries) deleteRelay.run(Number(e.id));
  });

  return {
    outboxInCommit: outbox !== undefined,
    // Without the outbox in this database, each commit keeps its news here for the relay to move. With it, the
    // table is still read: news kept while the outbox was in PostgreSQL (a deployment since moved back to the
    // embedded outbox) is moved in rather than left behind.
    relay: {
      take: async (limit) =>
        selectRelay
          .all(Math.max(1, Math.ceil(limit / RELAY_SHARES)), limit)
          .map((r) => ({ workspaceId: r.workspace_id, id: String(r.seq), body: r.body })),
      done: async (entries) => forgetRelayed(entries),
    },
    async ingest(workspaceId, roomName, events, folder, now) {
      const result = await new Promise<IngestResult>((resolve, reject) => {
        queued.push({ workspaceId, roomName, events, folder, now, resolve, reject });
        // After the current I/O phase, so every request that arrived with this one joins its group.
        if (queued.length === 1) setImmediate(flush);
      });
      for (const { after } of result.changes) {
        // Failure leaves it pending: the sweeper retries, and the event itself is safely recorded.
        if (!isActive(after)) await copyToArchive(after).catch(() => undefined);
      }
      return result;
    },
    async listActive(workspaceId) {
      return active.get(workspaceId)?.sorted() ?? [];
    },
    async listViews(workspaceId) {
      return active.get(workspaceId)?.views() ?? [];
    },
    async getActive(workspaceId, roomName) {
      return active.get(workspaceId)?.get(roomName);
    },
    async countActive(workspaceId) {
      return active.get(workspaceId)?.size ?? 0;
    },
    async latestEnded(workspaceId, roomName) {
      return parse(selectLatestEnded.get(workspaceId, roomName));
    },
    async getCall(workspaceId, callId) {
      return parse(selectById.get(workspaceId, callId));
    },
    async transcript(workspaceId, callId) {
      return selectById.get(workspaceId, callId) ? selectTurns.all(callId) : [];
    },
    async workspaceOfRoomSid(roomSid) {
      return selectWorkspaceBySid.get(roomSid)?.workspace_id;
    },
    async listIdle(before, limit) {
      return selectIdle.all(before, limit).map((r) => ({ workspaceId: r.workspace_id, roomName: r.room_name }));
    },
    async pruneSeen(before) {
      return deleteSeen.run(before).changes;
    },
    async archivePending(onFailure) {
      let n = 0;
      for (const row of selectPending.all()) {
        const call = parse(row);
        if (!call) continue;
        try {
          await copyToArchive(call);
          n++;
        } catch (err) {
          if (isOutage(err)) throw err;
          onFailure?.({ workspaceId: call.workspaceId, callId: call.id, err });
        }
      }
      return n;
    },
  };
}
