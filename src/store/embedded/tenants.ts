import type Database from 'better-sqlite3';
import type { ApiKeyRecord, StoredLiveKitProject, TenantStore, Workspace } from '../types.ts';
import { AppError } from '../../errors.ts';
import { groupProjects } from '../projects.ts';
import { createEmbeddedSettings } from './settings.ts';
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

interface ProjectRow extends WorkspaceRow {
  livekit_url: string | null;
  livekit_key: string | null;
  livekit_secret: string | null;
}

function projectOf(row: ProjectRow): StoredLiveKitProject | undefined {
  if (!row.livekit_url || !row.livekit_key || !row.livekit_secret) return undefined;
  return { url: row.livekit_url, apiKey: row.livekit_key, secret: row.livekit_secret };
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
  const selectKeys = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id');
  const selectAll = db.prepare<[], ProjectRow>('SELECT * FROM workspaces ORDER BY created_at, id');
  const selectProject = db.prepare<[string], ProjectRow>('SELECT * FROM workspaces WHERE id = ?');
  const selectByKey = db.prepare<[string], ProjectRow>('SELECT * FROM workspaces WHERE livekit_key = ? ORDER BY created_at, id');
  const selectProjects = db.prepare<[], ProjectRow>('SELECT * FROM workspaces WHERE livekit_key IS NOT NULL ORDER BY created_at, id');
  const updateProject = db.prepare('UPDATE workspaces SET livekit_url = ?, livekit_key = ?, livekit_secret = ? WHERE id = ?');

  return {
    ...createEmbeddedSettings(db),
    async createWorkspace(name, now): Promise<Workspace> {
      const ws = { id: newWorkspaceId(), name, createdAt: now };
      insertWorkspace.run(ws.id, ws.name, ws.createdAt);
      return ws;
    },
    async getWorkspace(id) {
      const row = selectWorkspace.get(id);
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async listWorkspaces() {
      return selectAll.all().map((row) => {
        const project = projectOf(row);
        return {
          id: row.id,
          name: row.name,
          createdAt: row.created_at,
          livekit: project ? { url: project.url, apiKey: project.apiKey } : null,
        };
      });
    },
    async setLiveKit(workspaceId, project) {
      return updateProject.run(project?.url ?? null, project?.apiKey ?? null, project?.secret ?? null, workspaceId).changes > 0;
    },
    async getLiveKit(workspaceId) {
      const row = selectProject.get(workspaceId);
      return row && projectOf(row);
    },
    async workspacesOfLiveKitKey(apiKey) {
      return selectByKey.all(apiKey).flatMap((row) => {
        const project = projectOf(row);
        return project ? [{ workspaceId: row.id, project }] : [];
      });
    },
    async liveKitProjects() {
      return groupProjects(
        selectProjects.all().flatMap((row) => {
          const project = projectOf(row);
          return project ? [{ workspaceId: row.id, project }] : [];
        }),
      );
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
    async listKeys(workspaceId) {
      return selectKeys.all(workspaceId).map(toKey);
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
