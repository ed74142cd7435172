import type Database from 'better-sqlite3';
import type { ApiKeyRecord, TenantStore, Workspace } from '../types.ts';
import { AppError } from '../../errors.ts';
import { hashKey, newApiKey, newKeyId, newWorkspaceId, parseKeyId, sameHash } from '../keys.ts';

interface KeyRow {
  id: string;
  workspace_id: string;
  hash: Buffer;
  created_at: number;
  revoked_at: number | null;
}

interface WorkspaceRow {
  id: string;
  name: string;
  created_at: number;
}

function toKey(row: KeyRow): ApiKeyRecord {
  return { id: row.id, workspaceId: row.workspace_id, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export function createEmbeddedTenants(db: Database.Database): TenantStore {
  const insertWorkspace = db.prepare('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)');
  const selectWorkspace = db.prepare<[string], WorkspaceRow>('SELECT id, name, created_at FROM workspaces WHERE id = ?');
  const countWorkspaces = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM workspaces');
  const insertKey = db.prepare('INSERT INTO api_keys (id, workspace_id, hash, created_at) VALUES (?, ?, ?, ?)');
  const revokeKey = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const selectKey = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?');

  return {
    async createWorkspace(name, now): Promise<Workspace> {
      const ws = { id: newWorkspaceId(), name, createdAt: now };
      insertWorkspace.run(ws.id, ws.name, ws.createdAt);
      return ws;
    },
    async getWorkspace(id) {
      const row = selectWorkspace.get(id);
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async countWorkspaces() {
      return countWorkspaces.get()?.n ?? 0;
    },
    async createKey(workspaceId, now) {
      if (!selectWorkspace.get(workspaceId)) throw new AppError('not_found', `unknown workspace ${workspaceId}`, { field: 'workspace' });
      const id = newKeyId();
      const apiKey = newApiKey(id);
      insertKey.run(id, workspaceId, hashKey(apiKey), now);
      return { key: { id, workspaceId, createdAt: now, revokedAt: null }, apiKey };
    },
    async revokeKey(keyId, now) {
      return revokeKey.run(now, keyId).changes > 0;
    },
    async verifyKey(apiKey) {
      const id = parseKeyId(apiKey);
      const row = id === undefined ? undefined : selectKey.get(id);
      if (!row || row.revoked_at !== null || !sameHash(row.hash, hashKey(apiKey))) return undefined;
      return toKey(row);
    },
    async getKey(keyId) {
      const row = selectKey.get(keyId);
      return row && { ...toKey(row), hash: row.hash };
    },
  };
}
