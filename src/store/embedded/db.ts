/**
 * The embedded store's SQLite database. WAL mode lets the `livecalls` CLI and the server use one file at
 * once. Durability: with `synchronous=NORMAL` a committed transaction survives the process being killed
 * (`kill -9`); only an OS crash or power loss can lose the last commits. `full` syncs every commit.
 * The schema is versioned SQL applied in order, tracked in `PRAGMA user_version`.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type SyncMode = 'normal' | 'full';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE workspaces (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     workspace_id TEXT NOT NULL REFERENCES workspaces(id),
     hash BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE TABLE calls (
     id TEXT PRIMARY KEY,
     workspace_id TEXT NOT NULL,
     room_name TEXT NOT NULL,
     room_sid TEXT NOT NULL,
     active INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     last_activity_at INTEGER NOT NULL,
     state TEXT NOT NULL
   );
   CREATE UNIQUE INDEX calls_active_room ON calls(workspace_id, room_name) WHERE active = 1;
   CREATE INDEX calls_room_ended ON calls(workspace_id, room_name, ended_at);
   CREATE INDEX calls_room_sid ON calls(room_sid) WHERE room_sid <> '';
   CREATE INDEX calls_idle ON calls(last_activity_at) WHERE active = 1;
   CREATE TABLE turns (
     call_id TEXT NOT NULL,
     id TEXT NOT NULL,
     role TEXT NOT NULL,
     content TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (call_id, id)
   ) WITHOUT ROWID;
   CREATE TABLE seen_events (
     workspace_id TEXT NOT NULL,
     id TEXT NOT NULL,
     seen_at INTEGER NOT NULL,
     PRIMARY KEY (workspace_id, id)
   ) WITHOUT ROWID;
   CREATE INDEX seen_events_age ON seen_events(seen_at);`,
  // Ended calls whose copy to an external archive (PostgreSQL) has not succeeded yet.
  `CREATE TABLE archive_pending (call_id TEXT PRIMARY KEY) WITHOUT ROWID;`,
  // Named leases, so one process at a time runs a periodic job (reconciliation with LiveKit).
  `CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;`,
];

export function openDatabase(dataDir: string, sync: SyncMode = 'normal'): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'livecalls.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  // The CLI may write while the server holds the file: wait instead of failing.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this livecalls (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
