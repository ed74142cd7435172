-- A workspace's own LiveKit project (the secret sealed with the server secret).
ALTER TABLE workspaces ADD COLUMN livekit_url TEXT;
ALTER TABLE workspaces ADD COLUMN livekit_key TEXT;
ALTER TABLE workspaces ADD COLUMN livekit_secret TEXT;
CREATE INDEX workspaces_livekit_key ON workspaces (livekit_key) WHERE livekit_key IS NOT NULL;
