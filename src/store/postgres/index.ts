/**
 * PostgreSQL backend: workspaces, API keys and the archive of ended calls, shared by every instance.
 * Schema applied at start by versioned migrations (migrate.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Call, Turn } from '../../domain/call.ts';
import { startedAt } from '../../domain/call.ts';
import { cleanText } from '../../domain/limits.ts';
import { AppError } from '../../errors.ts';
import { hashKey, newApiKey, newKeyId, newWorkspaceId, parseKeyId, sameHash } from '../keys.ts';
import { groupProjects } from '../projects.ts';
import type { ApiKeyRecord, ArchiveStore, StoredLiveKitProject, TenantStore, WebhookStore } from '../types.ts';
import { guard, pgOutage } from '../unavailable.ts';
import { migrate } from './migrate.ts';
import { createPostgresSettings } from './settings.ts';
import { createPostgresWebhooks } from './webhooks.ts';

/**
 * JSON that jsonb accepts. Text is cleaned where it enters (domain/limits.ts); a call recorded before that,
 * in a live store that took it, must still reach the archive rather than stay pending until it expires.
 */
function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? cleanText(v) : v));
}

// int8 -> number: our int8 columns are epoch ms, far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PostgresBackend {
  pool: pg.Pool;
  tenants: TenantStore;
  archive: ArchiveStore;
  /** Webhook endpoints and the outbox, shared by every instance. */
  webhooks: WebhookStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `timeoutMs`: how long a store call may wait for PostgreSQL before it answers 503 (a blackholed or stalled
 * server is not noticed by TCP for minutes); getting a connection is bounded by the same time.
 */
export async function openPostgres(url: string, log?: Logger, timeoutMs = 2_000): Promise<PostgresBackend> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: timeoutMs, idleTimeoutMillis: 30_000 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (err) => log?.warn({ err }, 'PostgreSQL connection lost'));
  await migrate(pool);
  const q = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => pool.query<R>(text, values);

  async function getKey(id: string): Promise<(ApiKeyRecord & { hash: Buffer }) | undefined> {
    const row = (
      await q<{ id: string; workspace_id: string; hash: Buffer; created_at: number; revoked_at: number | null }>(
        'SELECT * FROM api_keys WHERE id = $1',
        [id],
      )
    ).rows[0];
    return row && { id: row.id, workspaceId: row.workspace_id, createdAt: row.created_at, revokedAt: row.revoked_at, hash: row.hash };
  }

  interface ProjectRow {
    id: string;
    name: string;
    created_at: string | number;
    livekit_url: string | null;
    livekit_key: string | null;
    livekit_secret: string | null;
  }
  const projectOf = (row: ProjectRow): StoredLiveKitProject | undefined =>
    row.livekit_url && row.livekit_key && row.livekit_secret
      ? { url: row.livekit_url, apiKey: row.livekit_key, secret: row.livekit_secret }
      : undefined;
  const withProjects = (rows: ProjectRow[]) =>
    rows.flatMap((row) => {
      const project = projectOf(row);
      return project ? [{ workspaceId: row.id, project }] : [];
    });

  const tenants: TenantStore = {
    ...createPostgresSettings(pool),
    async listWorkspaces() {
      const rows = (await q<ProjectRow>('SELECT * FROM workspaces ORDER BY created_at, id')).rows;
      return rows.map((row) => {
        const project = projectOf(row);
        return {
          id: row.id,
          name: row.name,
          createdAt: Number(row.created_at),
          livekit: project ? { url: project.url, apiKey: project.apiKey } : null,
        };
      });
    },
    async setLiveKit(workspaceId, project) {
      const result = await q('UPDATE workspaces SET livekit_url = $1, livekit_key = $2, livekit_secret = $3 WHERE id = $4', [
        project?.url ?? null,
        project?.apiKey ?? null,
        project?.secret ?? null,
        workspaceId,
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async getLiveKit(workspaceId) {
      const row = (await q<ProjectRow>('SELECT * FROM workspaces WHERE id = $1', [workspaceId])).rows[0];
      return row && projectOf(row);
    },
    async workspacesOfLiveKitKey(apiKey) {
      return withProjects((await q<ProjectRow>('SELECT * FROM workspaces WHERE livekit_key = $1 ORDER BY created_at, id', [apiKey])).rows);
    },
    async liveKitProjects() {
      return groupProjects(
        withProjects((await q<ProjectRow>('SELECT * FROM workspaces WHERE livekit_key IS NOT NULL ORDER BY created_at, id')).rows),
      );
    },
    async createWorkspace(name, now) {
      const ws = { id: newWorkspaceId(), name, createdAt: now };
      await q('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [ws.id, name, now]);
      return ws;
    },
    async getWorkspace(id) {
      const row = (await q<{ id: string; name: string; created_at: number }>('SELECT * FROM workspaces WHERE id = $1', [id])).rows[0];
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async countWorkspaces() {
      return Number((await q<{ n: string }>('SELECT count(*) AS n FROM workspaces')).rows[0]?.n ?? 0);
    },
    async createKey(workspaceId, now) {
      if (!(await tenants.getWorkspace(workspaceId)))
        throw new AppError('not_found', `unknown workspace ${workspaceId}`, { field: 'workspace' });
      const id = newKeyId();
      const apiKey = newApiKey(id);
      await q('INSERT INTO api_keys (id, workspace_id, hash, created_at) VALUES ($1, $2, $3, $4)', [id, workspaceId, hashKey(apiKey), now]);
      return { key: { id, workspaceId, createdAt: now, revokedAt: null }, apiKey };
    },
    async listKeys(workspaceId) {
      const rows = (
        await q<{ id: string; workspace_id: string; created_at: string; revoked_at: string | null }>(
          'SELECT id, workspace_id, created_at, revoked_at FROM api_keys WHERE workspace_id = $1 ORDER BY created_at, id',
          [workspaceId],
        )
      ).rows;
      return rows.map((r) => ({
        id: r.id,
        workspaceId: r.workspace_id,
        createdAt: Number(r.created_at),
        revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      }));
    },
    async revokeKey(keyId, now) {
      return ((await q('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, keyId])).rowCount ?? 0) > 0;
    },
    async verifyKey(apiKey): Promise<ApiKeyRecord | undefined> {
      const id = parseKeyId(apiKey);
      const key = id === undefined ? undefined : await getKey(id);
      if (!key || key.revokedAt !== null || !sameHash(key.hash, hashKey(apiKey))) return undefined;
      return { id: key.id, workspaceId: key.workspaceId, createdAt: key.createdAt, revokedAt: key.revokedAt };
    },
    getKey,
  };

  const archive: ArchiveStore = {
    async put(call: Call, transcript: readonly Turn[]) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO archived_calls (id, workspace_id, room_name, room_sid, started_at, ended_at, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO UPDATE SET room_sid = EXCLUDED.room_sid, started_at = EXCLUDED.started_at,
             ended_at = EXCLUDED.ended_at, state = EXCLUDED.state`,
          [call.id, call.workspaceId, call.roomName, call.roomSid, startedAt(call), call.endedAt ?? 0, storableJson(call)],
        );
        if (transcript.length > 0) {
          await client.query(
            `INSERT INTO archived_turns (call_id, id, role, content, at)
             SELECT $1, t.id, t.role, t.content, t.at FROM jsonb_to_recordset($2::jsonb) AS t(id text, role text, content text, at bigint)
             ON CONFLICT DO NOTHING`,
            [call.id, storableJson(transcript)],
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async get(workspaceId, callId) {
      const row = (await q<{ state: Call }>('SELECT state FROM archived_calls WHERE workspace_id = $1 AND id = $2', [workspaceId, callId]))
        .rows[0];
      return row?.state;
    },
    async transcript(workspaceId, callId) {
      const rows = await q<Turn>(
        `SELECT t.id, t.role, t.content, t.at FROM archived_turns t JOIN archived_calls c ON c.id = t.call_id
         WHERE c.workspace_id = $1 AND t.call_id = $2 ORDER BY t.at, t.id COLLATE "C"`,
        [workspaceId, callId],
      );
      return rows.rows;
    },
    async latestEnded(workspaceId, roomName) {
      const row = (
        await q<{ state: Call }>(
          'SELECT state FROM archived_calls WHERE workspace_id = $1 AND room_name = $2 ORDER BY ended_at DESC LIMIT 1',
          [workspaceId, roomName],
        )
      ).rows[0];
      return row?.state;
    },
  };

  return {
    pool,
    tenants: guard('PostgreSQL', tenants, pgOutage, timeoutMs),
    archive: guard('PostgreSQL', archive, pgOutage, timeoutMs),
    webhooks: guard('PostgreSQL', createPostgresWebhooks(pool), pgOutage, timeoutMs),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
