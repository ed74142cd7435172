-- livecalls schema v1: tenants and the archive of ended calls.
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  hash BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE archived_calls (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  room_name TEXT NOT NULL,
  room_sid TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT NOT NULL,
  state JSONB NOT NULL
);
CREATE INDEX archived_calls_room ON archived_calls (workspace_id, room_name, ended_at DESC);

CREATE TABLE archived_turns (
  call_id TEXT NOT NULL REFERENCES archived_calls(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (call_id, id)
);
