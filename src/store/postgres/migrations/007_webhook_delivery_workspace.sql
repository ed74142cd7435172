-- A delivery's workspace on its own row: a claim counts what each workspace holds, and reads each workspace's due
-- deliveries from its own index, so a workspace at its cap costs nothing however long its backlog.
ALTER TABLE webhook_deliveries ADD COLUMN workspace_id TEXT;
UPDATE webhook_deliveries d SET workspace_id = e.workspace_id FROM webhook_endpoints e WHERE e.id = d.endpoint_id;
ALTER TABLE webhook_deliveries ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX webhook_deliveries_workspace_due ON webhook_deliveries (workspace_id, next_attempt_at, seq) WHERE status = 'pending';
