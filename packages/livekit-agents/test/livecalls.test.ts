/**
 * End to end: a real AgentSession (FakeLLM, no LiveKit server, no audio) with attachLivecalls, posting to a
 * real livecalls server process that verifies the worker's LiveKit signature. The room is one LiveKit has not
 * told livecalls about (no webhooks here), so the bridge names the workspace from the job's room metadata
 * (`x-workspace-id`), as an agent worker does before the room_started webhook lands. The call's details
 * then show what the bridge sent, as livecalls folds it (agent state, latency, tools, errors, usage).
 */
import { rmSync } from 'node:fs';
import { initializeLogger, type voice } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedTenants } from '../../../src/store/embedded/index.ts';
import { tempDir } from '../../../test/helpers/app.ts';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process.ts';
import { attachLivecalls } from '../src/attach.ts';
import { roomSigner } from '../src/sign.ts';
import { startSession, USAGE_PER_REPLY } from './helpers/agent.ts';

type Stat = { last: number; p50: number; p95: number } | null;
interface CallTelemetry {
  transcript: unknown[];
  agentState: string | null;
  customerState: string | null;
  latency: { turns: number; e2e: Stat; llmTtft: Stat; ttsTtfb: Stat; endOfTurnDelay: Stat; transcriptionDelay: Stat };
  interruptions: { count: number; false: number };
  usage: {
    llmPromptTokens: number;
    llmCompletionTokens: number;
    llmCachedTokens: number;
    ttsCharacters: number;
    sttSeconds: number;
    estimatedCost: number | null;
    currency: string | null;
  };
  errors: { count: number; recent: { source: string; message: string; recoverable: boolean }[] };
  tools: { count: number; failed: number; recent: { name: string; ok: boolean; durationMs: number | null }[] };
}

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

  it('shows its telemetry in the call details: agent state, latency, tools, usage with its cost, errors, close', async () => {
    const roomName = `telemetry-${Date.now().toString(36)}`;
    const prices = await fetch(`${server.url}/v2/api/prices`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'USD', llmPromptPer1k: 1, llmCompletionPer1k: 2 }),
    });
    expect(prices.status).toBe(200);
    const { session, model } = await startSession();
    const ctx = {
      room: { name: roomName },
      job: { room: { name: roomName, sid: 'RM_telemetry', metadata: JSON.stringify({ workspaceId }) } },
    };
    const bridge = attachLivecalls(session, ctx, { url: server.url, apiKey: KEY, apiSecret: SECRET, logger: quiet });
    let callId: string | undefined;
    try {
      await session.run({ userInput: 'Hello, I need to move my appointment' }).wait();
      await session.run({ userInput: 'Monday please' }).wait();
      model.emit('error', {
        type: 'llm_error',
        timestamp: Date.now(),
        label: 'fake-llm',
        error: new Error('429 Too Many Requests'),
        recoverable: true,
      });
      await bridge.flush(10_000);

      const list = await get<{ data: { id: string; roomName: string }[] }>('/v2/api/active-calls');
      callId = list.data.find((c) => c.roomName === roomName)!.id;
      const live = await get<CallTelemetry>(`/v2/api/calls/${callId}`);
      expect(live.transcript).toHaveLength(4);
      expect(live.agentState).toBe('listening');
      expect(live.customerState).toBeNull(); // text turns: no voice activity, no caller state
      // Both agent replies carried the LLM's time to first token (FakeLLM waits 120 ms, then 80 ms, before it).
      expect(live.latency.turns).toBe(2);
      expect(live.latency.llmTtft).toMatchObject({
        last: expect.any(Number) as number,
        p50: expect.any(Number) as number,
        p95: expect.any(Number) as number,
      });
      expect(live.latency.llmTtft!.p95).toBeGreaterThanOrEqual(100);
      expect(live.latency.e2e).toBeNull(); // needs the caller's end of speech, from audio
      expect(live.interruptions).toEqual({ count: 0, false: 0 });
      expect(live.tools).toMatchObject({ count: 1, failed: 1, recent: [{ name: 'book', ok: false }] });
      expect(live.errors).toMatchObject({
        count: 1,
        recent: [{ source: 'llm', message: 'fake-llm: 429 Too Many Requests', recoverable: true }],
      });
      // Three model calls, each reporting USAGE_PER_REPLY: 120 prompt and 27 completion tokens at 1 and 2 USD per 1,000.
      expect(live.usage).toMatchObject({
        llmPromptTokens: 3 * USAGE_PER_REPLY.promptTokens,
        llmCompletionTokens: 3 * USAGE_PER_REPLY.completionTokens,
        llmCachedTokens: 3 * USAGE_PER_REPLY.promptCachedTokens,
        currency: 'USD',
      });
      expect(live.usage.estimatedCost).toBeCloseTo((3 * 40 * 1 + 3 * 9 * 2) / 1000, 6);
    } finally {
      await closeQuietly(session);
    }
    await bridge.flush(10_000); // the close event began it; wait for it to end
    expect(bridge.stats()).toMatchObject({ failed: 0, dropped: 0, rejected: 0, queued: 0 });
    const closed = await get<CallTelemetry>(`/v2/api/calls/${callId ?? 'none'}`);
    expect(closed.agentState).toBe('closed');
  });
});

async function closeQuietly(session: voice.AgentSession): Promise<void> {
  await session.close().catch(() => undefined);
}
