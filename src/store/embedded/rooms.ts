/** Room ownership in the embedded database (see RoomRegistry in ../types.ts). */
import type Database from 'better-sqlite3';
import type { RoomOwner, RoomRegistry } from '../types.ts';

interface OwnerRow {
  workspace_id: string;
  room_sid: string;
  since: number;
  ended: number;
}

export function createEmbeddedRooms(db: Database.Database): RoomRegistry {
  const select = db.prepare<[string, string], OwnerRow>(
    'SELECT workspace_id, room_sid, since, ended FROM room_owners WHERE project = ? AND room_name = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO room_owners (project, room_name, workspace_id, room_sid, since, ended) VALUES (?, ?, ?, ?, ?, 0)
     ON CONFLICT(project, room_name) DO UPDATE SET workspace_id = excluded.workspace_id, room_sid = excluded.room_sid,
       since = excluded.since, ended = 0
     WHERE room_owners.room_sid <> excluded.room_sid AND room_owners.since <= excluded.since`,
  );
  const release = db.prepare('UPDATE room_owners SET ended = 1 WHERE project = ? AND room_name = ? AND room_sid = ?');
  const claim = db.prepare('INSERT OR IGNORE INTO room_claims (project, room_name, workspace_id, claimed_at) VALUES (?, ?, ?, ?)');
  const claimants = db.prepare<[string, string], { workspace_id: string }>(
    'SELECT workspace_id FROM room_claims WHERE project = ? AND room_name = ?',
  );
  const unclaim = db.prepare('DELETE FROM room_claims WHERE project = ? AND room_name = ? AND workspace_id = ?');
  const toOwner = (row: OwnerRow): RoomOwner => ({
    workspaceId: row.workspace_id,
    roomSid: row.room_sid,
    since: row.since,
    ended: row.ended === 1,
  });

  return {
    async bind(project, roomName, owner) {
      upsert.run(project, roomName, owner.workspaceId, owner.roomSid, owner.since);
      const now = select.get(project, roomName);
      return now !== undefined && now.room_sid === owner.roomSid && now.workspace_id === owner.workspaceId && now.ended === 0;
    },
    async release(project, roomName, roomSid) {
      release.run(project, roomName, roomSid);
    },
    async owner(project, roomName) {
      const row = select.get(project, roomName);
      return row && toOwner(row);
    },
    async claim(project, roomName, workspaceId, now) {
      claim.run(project, roomName, workspaceId, now);
    },
    async claimants(project, roomName) {
      return claimants.all(project, roomName).map((r) => r.workspace_id);
    },
    async unclaim(project, roomName, workspaceId) {
      unclaim.run(project, roomName, workspaceId);
    },
  };
}
