/** Embedded schema migrations that rewrite rows: what was there before them reads right after. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/store/embedded/db.ts';
import { createEmbeddedWebhooks } from '../../src/store/embedded/webhooks.ts';

describe('embedded migrations', () => {
  it("gives every delivery already queued its endpoint's workspace, and a capped claim then finds it", async () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.length - 1);
    db.prepare(
      `INSERT INTO webhook_endpoints (id, workspace_id, url, events, description, secret, created_at)
                VALUES ('ep1', 'ws_a', 'https://a.example', '["call.started"]', NULL, 's', 0)`,
    ).run();
    db.prepare(
      `INSERT INTO webhook_messages (id, workspace_id, type, payload, created_at) VALUES ('m1', 'ws_a', 'call.started', '{}', 0)`,
    ).run();
    db.prepare(
      `INSERT INTO webhook_deliveries (endpoint_id, message_id, status, attempts, next_attempt_at, created_at, updated_at)
                VALUES ('ep1', 'm1', 'pending', 0, 0, 0, 0)`,
    ).run();
    migrate(db);
    expect(db.prepare('SELECT workspace_id FROM webhook_deliveries').all()).toEqual([{ workspace_id: 'ws_a' }]);
    const claimed = await createEmbeddedWebhooks(db).claim('h', 1, 60_000, 8, 4);
    expect(claimed.map((c) => [c.workspaceId, c.eventId])).toEqual([['ws_a', 'm1']]);
    db.close();
  });
});
