/** The embedded store as an archive (when live state is in Redis but no PostgreSQL is configured). */
import type Database from 'better-sqlite3';
import { startedAt, type Call, type Turn } from '../../domain/call.ts';
import type { ArchiveStore } from '../types.ts';
import { callRows } from './call-rows.ts';
import { historyIndexer } from './history.ts';

export function createEmbeddedArchive(db: Database.Database): ArchiveStore {
  const rows = callRows(db);
  const indexEnded = historyIndexer(db);
  const upsert = db.prepare(
    `INSERT INTO calls (id, workspace_id, room_name, room_sid, active, started_at, ended_at, last_activity_at, state)
     VALUES (@id, @workspaceId, @roomName, @roomSid, 0, @startedAt, @endedAt, @lastActivityAt, @state)
     ON CONFLICT(id) DO UPDATE SET room_sid = excluded.room_sid, started_at = excluded.started_at,
       ended_at = excluded.ended_at, last_activity_at = excluded.last_activity_at, state = excluded.state`,
  );
  const insertTurn = db.prepare('INSERT OR IGNORE INTO turns (call_id, id, role, content, at) VALUES (?, ?, ?, ?, ?)');
  const selectById = db.prepare<[string, string], { state: string }>(
    'SELECT state FROM calls WHERE workspace_id = ? AND id = ? AND active = 0',
  );
  const selectTurns = db.prepare<[string], Turn>('SELECT id, role, content, at FROM turns WHERE call_id = ? ORDER BY at, id');
  const selectLatest = db.prepare<[string, string], { state: string }>(
    'SELECT state FROM calls WHERE workspace_id = ? AND room_name = ? AND active = 0 ORDER BY ended_at DESC LIMIT 1',
  );
  const put = db.transaction((call: Call, transcript: readonly Turn[]) => {
    upsert.run({
      id: call.id,
      workspaceId: call.workspaceId,
      roomName: call.roomName,
      roomSid: call.roomSid,
      startedAt: startedAt(call),
      endedAt: call.endedAt,
      lastActivityAt: call.lastActivityAt,
      state: rows.state(call),
    });
    for (const t of transcript) insertTurn.run(call.id, t.id, t.role, t.content, t.at);
    indexEnded(call);
  });
  const parse = rows.parse;
  return {
    async put(call, transcript) {
      put(call, transcript);
    },
    async get(workspaceId, callId) {
      return parse(selectById.get(workspaceId, callId));
    },
    async transcript(workspaceId, callId) {
      return selectById.get(workspaceId, callId) ? selectTurns.all(callId) : [];
    },
    async latestEnded(workspaceId, roomName) {
      return parse(selectLatest.get(workspaceId, roomName));
    },
  };
}
