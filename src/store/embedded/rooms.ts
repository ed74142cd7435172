/** Room ownership in the embedded database (see RoomRegistry in ../types.ts). */
import type Database from 'better-sqlite3';
import type { RoomOwner, RoomRegistry } from '../types.ts';

interface OwnerRow {
  workspace_id: string;
  room_sid: string;
  project: string;
  since: number;
  ended: number;
}

export function createEmbeddedRooms(db: Database.Database): RoomRegistry {
  const select = db.prepare<[string], OwnerRow>(
    'SELECT workspace_id, room_sid, project, since, ended FROM room_owners WHERE room_name = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO room_owners (room_name, workspace_id, room_sid, project, since, ended) VALUES (?, ?, ?, ?, ?, 0)
     ON CONFLICT(room_name) DO UPDATE SET workspace_id = excluded.workspace_id, room_sid = excluded.room_sid,
       project = excluded.project, since = excluded.since, ended = 0
     WHERE room_owners.room_sid <> excluded.room_sid AND room_owners.since <= excluded.since`,
  );
  const release = db.prepare('UPDATE room_owners SET ended = 1 WHERE room_name = ? AND room_sid = ?');
  const claim = db.prepare('INSERT OR IGNORE INTO room_claims (room_name, workspace_id, claimed_at) VALUES (?, ?, ?)');
  const claimants = db.prepare<[string], { workspace_id: string }>('SELECT workspace_id FROM room_claims WHERE room_name = ?');
  const unclaim = db.prepare('DELETE FROM room_claims WHERE room_name = ? AND workspace_id = ?');
  const toOwner = (row: OwnerRow): RoomOwner => ({
    workspaceId: row.workspace_id,
    roomSid: row.room_sid,
    project: row.project,
    since: row.since,
    ended: row.ended === 1,
  });

  return {
    async bind(roomName, owner) {
      return upsert.run(roomName, owner.workspaceId, owner.roomSid, owner.project, owner.since).changes > 0;
    },
    async release(roomName, roomSid) {
      release.run(roomName, roomSid);
    },
    async owner(roomName) {
      const row = select.get(roomName);
      return row && toOwner(row);
    },
    async claim(roomName, workspaceId, now) {
      claim.run(roomName, workspaceId, now);
    },
    async claimants(roomName) {
      return claimants.all(roomName).map((r) => r.workspace_id);
    },
    async unclaim(roomName, workspaceId) {
      unclaim.run(roomName, workspaceId);
    },
  };
}
