/**
 * Embedded call store: SQLite is the record, and the active calls are also held in memory (loaded at open)
 * so reads never touch the disk. One process owns a data directory's calls; every batch is one SQLite
 * transaction, so an acknowledged batch is on disk and a crash mid-batch leaves nothing half-applied.
 */
import type Database from 'better-sqlite3';
import { isActive, startedAt, type Call, type Turn } from '../../domain/call.ts';
import type { CallEvent } from '../../domain/events.ts';
import { foldBatch, sidsOf } from '../fold-batch.ts';
import type { ArchiveStore, CallFolder, CallStore, IngestResult } from '../types.ts';

interface CallRow {
  state: string;
}

function byStart(a: Call, b: Call): number {
  return startedAt(a) - startedAt(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * `archive`: an external archive (PostgreSQL) that ended calls are copied to; without one, this store is
 * its own archive. A copy that fails is remembered in `archive_pending` and retried by `archivePending`.
 */
export function createEmbeddedCalls(db: Database.Database, archive?: ArchiveStore): CallStore {
  /** workspaceId -> roomName -> active call */
  const active = new Map<string, Map<string, Call>>();
  for (const row of db.prepare<[], CallRow>('SELECT state FROM calls WHERE active = 1').iterate()) {
    const call = JSON.parse(row.state) as Call;
    roomsOf(call.workspaceId).set(call.roomName, call);
  }

  function roomsOf(workspaceId: string): Map<string, Call> {
    let rooms = active.get(workspaceId);
    if (!rooms) active.set(workspaceId, (rooms = new Map()));
    return rooms;
  }

  const seenInsert = db.prepare('INSERT OR IGNORE INTO seen_events (workspace_id, id, seen_at) VALUES (?, ?, ?)');
  const selectBySid = db.prepare<[string, string], CallRow>('SELECT state FROM calls WHERE workspace_id = ? AND room_sid = ?');
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
  const selectWorkspaceBySid = db.prepare<[string], { workspace_id: string }>('SELECT workspace_id FROM calls WHERE room_sid = ? LIMIT 1');
  const selectIdle = db.prepare<[number, number], { workspace_id: string; room_name: string }>(
    'SELECT workspace_id, room_name FROM calls WHERE active = 1 AND last_activity_at < ? LIMIT ?',
  );
  const deleteSeen = db.prepare('DELETE FROM seen_events WHERE seen_at < ?');

  const parse = (row: CallRow | undefined): Call | undefined => (row ? (JSON.parse(row.state) as Call) : undefined);

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

  const ingestTx = db.transaction(
    (workspaceId: string, roomName: string, events: readonly CallEvent[], folder: CallFolder, now: number): IngestResult => {
      const bySid = new Map<string, Call>();
      for (const sid of sidsOf(events)) {
        const call = parse(selectBySid.get(workspaceId, sid));
        if (call) bySid.set(sid, call);
      }
      const snapshot = {
        active: roomsOf(workspaceId).get(roomName),
        latestEnded: parse(selectLatestEnded.get(workspaceId, roomName)),
        bySid,
      };
      const seen = (id: string) => selectSeen.get(workspaceId, id) !== undefined;
      const folded = foldBatch(workspaceId, roomName, snapshot, events, seen, folder, now);
      for (const id of folded.appliedIds) seenInsert.run(workspaceId, id, now);
      for (const { after } of folded.changes) write(after);
      for (const { callId, turn } of folded.turns) insertTurn.run(callId, turn.id, turn.role, turn.content, turn.at);
      if (archive) for (const { after } of folded.changes) if (!isActive(after)) insertPending.run(after.id);
      return { applied: folded.applied, duplicates: folded.duplicates, changes: folded.changes };
    },
  );

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
      state: JSON.stringify(call),
    });
  }

  return {
    async ingest(workspaceId, roomName, events, folder, now) {
      const result = ingestTx.immediate(workspaceId, roomName, events, folder, now);
      // The transaction committed: only now does memory follow.
      const rooms = roomsOf(workspaceId);
      for (const { after } of result.changes) {
        if (isActive(after)) rooms.set(after.roomName, after);
        else if (rooms.get(after.roomName)?.id === after.id) rooms.delete(after.roomName);
      }
      for (const { after } of result.changes) {
        // Failure leaves it pending: the sweeper retries, and the event itself is safely recorded.
        if (!isActive(after)) await copyToArchive(after).catch(() => undefined);
      }
      return result;
    },
    async listActive(workspaceId) {
      return [...(active.get(workspaceId)?.values() ?? [])].sort(byStart);
    },
    async getActive(workspaceId, roomName) {
      return active.get(workspaceId)?.get(roomName);
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
    async archivePending() {
      let n = 0;
      for (const row of selectPending.all()) {
        await copyToArchive(JSON.parse(row.state) as Call);
        n++;
      }
      return n;
    },
  };
}
