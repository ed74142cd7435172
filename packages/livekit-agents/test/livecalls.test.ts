/**
 * End to end: a real AgentSession (FakeLLM, no LiveKit server, no audio) with attachLivecalls, posting to a
 * real livecalls server process that verifies the worker's LiveKit signature. The room is one LiveKit has not
 * told livecalls about (no webhooks here), so the bridge names the workspace from the job's room metadata
 * (`x-workspace-id`), as an agent worker does before the room_started webhook lands.
 */
import { rmSync } from 'node:fs';
import { initializeLogger, type voice } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedTenants } from '../../../src/store/embedded/index.ts';
import { tempDir } from '../../../test/helpers/app.ts';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process.ts';
import { attachLivecalls } from '../src/attach.ts';
import { roomSigner } from '../src/sign.ts';
import { startSession } from './helpers/agent.ts';

const KEY = 'bridge-e2e-key';
const SECRET = 'bridge-e2e-secret-0123456789abcdefghijkl';
const dataDir = tempDir('livecalls-bridge-');
let server: ServerProcess;
let workspaceId = '';
let headers: Record<string, string> = {};
const quiet = { warn: () => undefined };

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'fatal' });
  const store = openEmbeddedTenants(dataDir);
  try {
    const workspace = await store.tenants.createWorkspace('bridge', Date.now());
    const { apiKey } = await store.tenants.createKey(workspace.id, Date.now());
    workspaceId = workspace.id;
    headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId };
  } finally {
    store.close();
  }
  server = await startServer({ LIVECALLS_DATA_DIR: dataDir, LIVEKIT_API_KEY: KEY, LIVEKIT_API_SECRET: SECRET });
}, 90_000);

afterAll(async () => {
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a LiveKit agent session feeding livecalls', () => {
  it('shows its turns live in the active list and the call details; a resent batch is applied once', async () => {
    const roomName = `front-desk-${Date.now().toString(36)}`;
    const { session } = await startSession();
    const accepted: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.status === 202 && typeof init?.body === 'string') accepted.push(init.body);
      return res;
    };
    const ctx = {
      room: { name: roomName },
      job: { room: { name: roomName, sid: 'RM_bridgeE2E', metadata: JSON.stringify({ workspaceId }) } },
    };
    const bridge = attachLivecalls(session, ctx, { url: server.url, apiKey: KEY, apiSecret: SECRET, logger: quiet, fetch: recording });
    try {
      await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
      await session.run({ userInput: 'Monday please' }).wait();
      await bridge.flush(10_000);

      const list = await get<{ data: { id: string; roomName: string; lastMessage?: string }[] }>('/v2/api/active-calls');
      const item = list.data.find((c) => c.roomName === roomName);
      expect(item).toBeDefined();
      const expected = [
        { role: 'customer', content: 'Hello, I need to move my appointment' },
        { role: 'agent', content: 'Of course. Which day suits you?' },
        { role: 'customer', content: 'Monday please' },
        { role: 'agent', content: 'Monday is full, sorry. Would Tuesday work?' },
      ];
      const details = await get<{ transcript: { role: string; content: string }[]; ownership: string }>(`/v2/api/calls/${item!.id}`);
      expect(details.transcript.map(({ role, content }) => ({ role, content }))).toEqual(expected);
      expect(details.ownership).toBe('unverified');

      // A retry after a lost answer: the same body again (a fresh signature) changes nothing.
      const first = accepted.find((b) => b.includes('"transcript"'))!;
      const again = await fetch(`${server.url}/v2/api/active-calls/${roomName}/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: await roomSigner(KEY, SECRET, roomName)(first),
          'x-workspace-id': workspaceId,
        },
        body: first,
      });
      expect(again.status).toBe(202);
      const answer = (await again.json()) as { applied: number; duplicates: number };
      expect(answer.applied).toBe(0);
      expect(answer.duplicates).toBeGreaterThan(0);
      expect((await get<{ transcript: unknown[] }>(`/v2/api/calls/${item!.id}`)).transcript).toHaveLength(4);

      const stats = bridge.stats();
      expect(stats.failed).toBe(0);
      expect(stats.dropped).toBe(0);
      expect(stats.sent).toBeGreaterThanOrEqual(4);
    } finally {
      await closeQuietly(session);
    }
  });
});

async function closeQuietly(session: voice.AgentSession): Promise<void> {
  await session.close().catch(() => undefined);
}
