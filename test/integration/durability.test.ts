/**
 * Nothing acknowledged is lost: ingest into the real server process, `kill -9` it, restart on the same
 * data directory, and compare the active list, transcripts and keys.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/simulate/sign.ts';
import { openEmbeddedTenants } from '../../src/store/embedded/index.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { participant, room, webhook } from '../helpers/livekit.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

const dataDir = tempDir('livecalls-durable-');
const env = { LIVECALLS_DATA_DIR: dataDir, LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET };
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('durability', () => {
  it('keeps every acknowledged event across kill -9 and restart', async () => {
    server = await startServer(env);
    // First start on an empty store prints a workspace and key once.
    const printed = /workspace id: (ws_[0-9a-f]+)[\s\S]*API key:\s+(lc_\S+)/.exec(server.output());
    expect(printed).not.toBeNull();
    const [, workspaceId = '', apiKey = ''] = printed ?? [];
    expect(server.output()).toContain(
      `curl -s ${server.url}/v2/api/active-calls -H 'x-api-key: ${apiKey}' -H 'x-workspace-id: ${workspaceId}'`,
    );
    const headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId };

    // A key made by the CLI's store code while the server runs.
    const cli = openEmbeddedTenants(dataDir);
    const second = await cli.tenants.createKey(workspaceId, Date.now());
    cli.close();

    const now = Date.now();
    for (let c = 0; c < 5; c++) {
      const r = room({ name: `call-${c}`, workspaceId, agentName: 'Durable Agent', createdAt: now - 60_000 + c });
      for (const ev of [
        webhook('room_started', r, now - 60_000 + c),
        webhook('participant_joined', r, now - 59_000, participant(`sip_${c}`, 'sip', now - 59_000, { phone: `+1555000000${c}` })),
      ]) {
        const { body, authorization } = await signWebhook(ev, LK_KEY, LK_SECRET);
        const res = await fetch(`${server.url}/webhooks/livekit`, {
          method: 'POST',
          headers: { 'content-type': 'application/webhook+json', authorization },
          body,
        });
        expect(res.status).toBe(200);
      }
      const events = Array.from({ length: 10 }, (_, i) => ({
        id: `t${i}`,
        createdAt: now - 50_000 + i,
        type: 'transcript',
        role: i % 2 ? 'customer' : 'agent',
        content: `call ${c} turn ${i}`,
      }));
      const res = await fetch(`${server.url}/v2/api/active-calls/call-${c}/events`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(202);
    }
    const before = await (await fetch(`${server.url}/v2/api/active-calls`, { headers })).json();
    const detailsBefore = await (await fetch(`${server.url}/v2/api/active-calls/call-3`, { headers })).json();
    expect(before.count).toBe(5);

    expect(await server.kill('SIGKILL')).toBeNull();
    server = await startServer(env);
    // Not a first start any more: nothing printed again.
    expect(server.output()).not.toContain('API key:');

    const after = await (await fetch(`${server.url}/v2/api/active-calls`, { headers })).json();
    const strip = (list: { data: { duration: number }[] }) => list.data.map(({ duration: _d, ...rest }) => rest);
    expect(strip(after)).toEqual(strip(before));
    const detailsAfter = await (await fetch(`${server.url}/v2/api/active-calls/call-3`, { headers })).json();
    expect({ ...detailsAfter, duration: 0 }).toEqual({ ...detailsBefore, duration: 0 });
    expect(detailsAfter.transcript).toHaveLength(10);
    const viaSecond = await fetch(`${server.url}/v2/api/active-calls`, {
      headers: { 'x-api-key': second.apiKey, 'x-workspace-id': workspaceId },
    });
    expect(viaSecond.status).toBe(200);
  });
});
