/** The `livecalls` command against the same store as a running server. */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { ROOT, startServer, statusWithin, type ServerProcess } from '../helpers/server-process.ts';

const run = promisify(execFile);
const dataDir = tempDir('livecalls-cli-');
const env = { ...process.env, LIVECALLS_DATA_DIR: dataDir };
let server: ServerProcess;

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/livecalls.js', ...args], { cwd: ROOT, env });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

beforeAll(async () => {
  server = await startServer({ LIVECALLS_DATA_DIR: dataDir, LIVECALLS_KEY_CACHE_TTL: '1s' });
});
afterAll(async () => {
  await server.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('livecalls CLI', () => {
  it('creates a workspace (one JSON line), keys, and revokes them while the server runs', async () => {
    const created = await run('npx', ['--no-install', 'livecalls', 'workspaces', 'create', '--name', 'Acme'], { cwd: ROOT, env });
    const lines = created.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const { workspaceId, apiKey } = JSON.parse(lines[0] ?? '') as { workspaceId: string; apiKey: string };
    expect(workspaceId).toMatch(/^ws_/);
    const list = (key: string) =>
      fetch(`${server.url}/v2/api/active-calls`, { headers: { 'x-api-key': key, 'x-workspace-id': workspaceId } });
    expect((await list(apiKey)).status).toBe(200);

    const made = await cli('keys', 'create', '--workspace', workspaceId);
    expect(made.code).toBe(0);
    const second = JSON.parse(made.stdout) as { apiKey: string; keyId: string };
    expect((await list(second.apiKey)).status).toBe(200);

    const revoked = await cli('keys', 'revoke', second.keyId);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ keyId: second.keyId, revoked: true });
    // The server trusts a verified key for LIVECALLS_KEY_CACHE_TTL; the CLI is another process.
    expect(await statusWithin(async () => (await list(second.apiKey)).status, 401, 3_000)).toBe(401);
    expect((await list(apiKey)).status).toBe(200);
  });

  it('fails clearly on bad input', async () => {
    expect(await cli('workspaces', 'create')).toMatchObject({ code: 2, stderr: expect.stringContaining('--name is required') });
    expect(await cli('keys', 'create', '--workspace', 'ws_missing')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('unknown workspace'),
    });
    expect(await cli('keys', 'revoke', 'nope')).toMatchObject({ code: 1, stderr: expect.stringContaining('no active key') });
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('lists workspaces and keys without secrets, gives a workspace its own LiveKit project, and explains every command', async () => {
    const created = JSON.parse((await cli('workspaces', 'create', '--name', 'Globex')).stdout) as { workspaceId: string; keyId: string };
    const secret = 'globex-livekit-secret-0123456789abcdef';
    const set = await cli(
      'workspaces',
      'set-livekit',
      created.workspaceId,
      '--url',
      'wss://globex.example.com',
      '--api-key',
      'APIglobex',
      '--api-secret',
      secret,
    );
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({
      workspaceId: created.workspaceId,
      livekit: { url: 'https://globex.example.com', apiKey: 'APIglobex' },
    });
    const listed = await cli('workspaces', 'list');
    expect(listed.stdout).not.toContain(secret);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { workspaceId: string; livekit: unknown });
    expect(rows.find((r) => r.workspaceId === created.workspaceId)?.livekit).toEqual({
      url: 'https://globex.example.com',
      apiKey: 'APIglobex',
    });
    // The same key with another secret is another project: refused.
    const other = JSON.parse((await cli('workspaces', 'create', '--name', 'Other')).stdout) as { workspaceId: string };
    expect(
      await cli(
        'workspaces',
        'set-livekit',
        other.workspaceId,
        '--url',
        'wss://globex.example.com',
        '--api-key',
        'APIglobex',
        '--api-secret',
        'another-secret-0123456789abcdef',
      ),
    ).toMatchObject({ code: 1, stderr: expect.stringContaining('already set for workspace') });
    // The simulator's key is no LiveKit project's.
    expect(
      await cli(
        'workspaces',
        'set-livekit',
        other.workspaceId,
        '--url',
        'wss://sim.example.com',
        '--api-key',
        'livecalls-simulation',
        '--api-secret',
        'another-secret-0123456789abcdef',
      ),
    ).toMatchObject({ code: 2, stderr: expect.stringContaining("is the simulator's key") });

    const keys = await cli('keys', 'list', '--workspace', created.workspaceId);
    expect(keys.code).toBe(0);
    const keyRows = keys.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(keyRows).toEqual([{ keyId: created.keyId, workspaceId: created.workspaceId, createdAt: expect.any(String), revokedAt: null }]);
    expect(keys.stdout).not.toMatch(/lc_[0-9a-f]{16}_/);

    for (const command of [
      ['workspaces', 'create'],
      ['workspaces', 'list'],
      ['workspaces', 'set-livekit'],
      ['keys', 'create'],
      ['keys', 'list'],
      ['keys', 'revoke'],
      ['simulate'],
    ]) {
      const help = await cli(...command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`livecalls ${command.join(' ')}`);
    }
  }, 180_000);
});
