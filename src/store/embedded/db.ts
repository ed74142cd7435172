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

export const MIGRATIONS: readonly string[] = [
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
  // Outgoing webhooks: endpoints, the outbox (one delivery per endpoint and message) and every attempt.
  `CREATE TABLE webhook_endpoints (
     id TEXT PRIMARY KEY,
     workspace_id TEXT NOT NULL,
     url TEXT NOT NULL,
     events TEXT NOT NULL,
     description TEXT,
     secret TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, created_at);
   CREATE TABLE webhook_messages (
     id TEXT PRIMARY KEY,
     workspace_id TEXT NOT NULL,
     type TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE webhook_deliveries (
     seq INTEGER PRIMARY KEY,
     endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
     message_id TEXT NOT NULL REFERENCES webhook_messages(id),
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER,
     locked_by TEXT,
     locked_until INTEGER NOT NULL DEFAULT 0,
     last_response_status INTEGER,
     last_error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     delivered_at INTEGER,
     UNIQUE (endpoint_id, message_id)
   );
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
   CREATE INDEX webhook_deliveries_log ON webhook_deliveries(endpoint_id, created_at);
   CREATE INDEX webhook_deliveries_message ON webhook_deliveries(message_id);
   CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(updated_at) WHERE status <> 'pending';
   CREATE TABLE webhook_attempts (
     endpoint_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     at INTEGER NOT NULL,
     response_status INTEGER,
     error TEXT,
     duration_ms INTEGER NOT NULL,
     PRIMARY KEY (endpoint_id, message_id, attempt),
     FOREIGN KEY (endpoint_id, message_id) REFERENCES webhook_deliveries(endpoint_id, message_id) ON DELETE CASCADE
   ) WITHOUT ROWID;`,
  // Room ownership as LiveKit proved it, and the workspaces holding unverified calls of a room name.
  `CREATE TABLE room_owners (
     project TEXT NOT NULL,
     room_name TEXT NOT NULL,
     workspace_id TEXT NOT NULL,
     room_sid TEXT NOT NULL,
     since INTEGER NOT NULL,
     ended INTEGER NOT NULL,
     PRIMARY KEY (project, room_name)
   ) WITHOUT ROWID;
   CREATE TABLE room_claims (
     project TEXT NOT NULL,
     room_name TEXT NOT NULL,
     workspace_id TEXT NOT NULL,
     claimed_at INTEGER NOT NULL,
     PRIMARY KEY (project, room_name, workspace_id)
   ) WITHOUT ROWID;`,
  // A workspace's own LiveKit project (the secret sealed with the server secret).
  `ALTER TABLE workspaces ADD COLUMN livekit_url TEXT;
   ALTER TABLE workspaces ADD COLUMN livekit_key TEXT;
   ALTER TABLE workspaces ADD COLUMN livekit_secret TEXT;
   CREATE INDEX workspaces_livekit_key ON workspaces(livekit_key) WHERE livekit_key IS NOT NULL;`,
  // A workspace's alert rules (versioned: a save names the version it replaces) and its prices.
  `CREATE TABLE alert_rules (workspace_id TEXT PRIMARY KEY, version INTEGER NOT NULL, rules TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE workspace_prices (workspace_id TEXT PRIMARY KEY, prices TEXT NOT NULL) WITHOUT ROWID;`,
  // Call history: the filter fields of every ended call (a side table whose integer key is also the call's
  // row in the full-text index, which SQLite may not renumber), and the index of what was said. Backfilled from
  // the calls already ended. 21600000 (6 h) is LONG_CALL_MS of store/history.ts: long calls get their own
  // index so statistics over a range read only the calls near it.
  `CREATE TABLE call_history (
     seq INTEGER PRIMARY KEY,
     call_id TEXT NOT NULL UNIQUE,
     workspace_id TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     agent TEXT NOT NULL,
     call_type TEXT NOT NULL,
     sentiment TEXT NOT NULL,
     transfer_requested INTEGER NOT NULL,
     end_reason TEXT,
     customer_name TEXT NOT NULL,
     customer_phone TEXT NOT NULL
   );
   CREATE INDEX call_history_started ON call_history(workspace_id, started_at DESC, call_id DESC, ended_at, agent, call_type, sentiment, transfer_requested, end_reason);
   CREATE INDEX call_history_agent ON call_history(workspace_id, agent, started_at DESC, call_type, sentiment, transfer_requested, end_reason);
   CREATE INDEX call_history_sentiment ON call_history(workspace_id, sentiment, started_at DESC, agent, call_type, transfer_requested, end_reason);
   CREATE INDEX call_history_ended ON call_history(workspace_id, ended_at);
   CREATE INDEX call_history_long ON call_history(workspace_id, started_at) WHERE ended_at - started_at > 21600000;
   CREATE INDEX call_history_age ON call_history(ended_at);
   CREATE VIRTUAL TABLE call_search USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
   INSERT INTO call_history (call_id, workspace_id, started_at, ended_at, agent, call_type, sentiment, transfer_requested,
                             end_reason, customer_name, customer_phone)
   SELECT id, workspace_id, started_at, COALESCE(ended_at, started_at),
     COALESCE(json_extract(state, '$.agentName.value'),
       (SELECT COALESCE(json_extract(p.value, '$.attributes."lk.agent.name"'), json_extract(p.value, '$.name'))
          FROM json_each(state, '$.participants') p WHERE json_extract(p.value, '$.kind') = 'agent' LIMIT 1), ''),
     CASE WHEN EXISTS (SELECT 1 FROM json_each(state, '$.participants') p WHERE json_extract(p.value, '$.kind') = 'sip')
       THEN 'phone' ELSE 'web' END,
     COALESCE(json_extract(state, '$.sentiment'), 'neutral'),
     json_extract(state, '$.transfer') IS NOT NULL,
     json_extract(state, '$.endReason'),
     COALESCE(json_extract(state, '$.customerName.value'), json_extract(state, '$.roomCustomerName.value'), ''),
     COALESCE(json_extract(state, '$.customerPhone.value'),
       (SELECT json_extract(p.value, '$.attributes."sip.phoneNumber"') FROM json_each(state, '$.participants') p
          WHERE json_extract(p.value, '$.kind') = 'sip' AND json_extract(p.value, '$.attributes."sip.phoneNumber"') <> '' LIMIT 1), '')
   FROM calls WHERE active = 0;
   INSERT INTO call_search (rowid, body)
   SELECT h.seq, h.customer_name || ' ' || h.customer_phone || ' ' ||
     COALESCE((SELECT group_concat(t.content, ' ') FROM turns t WHERE t.call_id = h.call_id), '')
   FROM call_history h;`,
  // News of committed call changes waiting to be moved into a webhook outbox kept elsewhere (PostgreSQL):
  // written in the batch's own transaction (see RelayStore in ../types.ts).
  `CREATE TABLE webhook_relay (seq INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, body TEXT NOT NULL);`,
  // Deliveries held by a sender, counted per workspace by every claim (see WebhookStore.claim).
  `CREATE INDEX webhook_deliveries_held ON webhook_deliveries(locked_until) WHERE status = 'pending' AND locked_until > 0;`,
  // A delivery's workspace on its own row: a claim counts what each workspace holds, and reads each workspace's
  // due deliveries from its own index, without a join per row.
  `ALTER TABLE webhook_deliveries ADD COLUMN workspace_id TEXT NOT NULL DEFAULT '';
   UPDATE webhook_deliveries SET workspace_id = COALESCE((SELECT e.workspace_id FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id), '');
   CREATE INDEX webhook_deliveries_workspace_due ON webhook_deliveries(workspace_id, next_attempt_at, seq) WHERE status = 'pending';`,
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

/** Applies the migrations not yet applied, up to `target` (all of them by default). */
export function migrate(db: Database.Database, target = MIGRATIONS.length): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this livecalls (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    for (let v = current; v < target; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
