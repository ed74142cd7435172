/**
 * What `npm run demo` runs: the simulator's calls held in the simulated LiveKit server API, and a real
 * livecalls server process whose LIVEKIT_URL points at it. End-call, takeover and transfer from the API act
 * on the simulated rooms, and the simulated calls react as real ones would: the room is gone, the agent falls
 * silent, the caller leaves.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveKitStandIn, type LiveKitStandIn } from '../../src/simulate/livekit/server.ts';
import { runSimulation, type SimulatedCall } from '../../src/simulate/simulator.ts';
import { openEmbeddedTenants } from '../../src/store/embedded/index.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

const dataDir = tempDir('livecalls-demo-lk-');
let server: ServerProcess;
let livekit: LiveKitStandIn;
let workspaceId = '';
let headers: Record<string, string> = {};

interface Details {
  id: string;
  status?: string;
  endReason?: string | null;
  transcript: { role: string; content: string }[];
  participants: { identity: string; isAgent: boolean }[];
  humanTakeover?: boolean;
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, { ...init, headers: { ...headers, 'content-type': 'application/json', ...(init.headers ?? {}) } });

async function until<T>(what: string, probe: () => Promise<T | undefined>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const store = openEmbeddedTenants(dataDir);
  try {
    const workspace = await store.tenants.createWorkspace('demo', Date.now());
    const { apiKey } = await store.tenants.createKey(workspace.id, Date.now());
    workspaceId = workspace.id;
    headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId };
  } finally {
    store.close();
  }
  livekit = await startLiveKitStandIn(LK_KEY, LK_SECRET);
  server = await startServer({
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
  });
}, 60_000);

afterAll(async () => {
  await server?.kill();
  await livekit?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo: simulated calls in a simulated LiveKit', () => {
  it('end-call ends the simulated room; a takeover silences the scripted agent; a transfer takes the caller away', async () => {
    const calls: SimulatedCall[] = [];
    const done = runSimulation({
      baseUrl: server.url,
      workspaceId,
      livekitKey: LK_KEY,
      livekitSecret: LK_SECRET,
      livekit,
      calls: 3,
      concurrency: 3,
      turnDelayMs: 400,
      holdMs: 500,
      onCall: (call) => calls.push(call),
    });
    const live = await until('three live calls with a first turn', async () => {
      const list = (await (await api('/v2/api/active-calls')).json()) as {
        data: { id: string; roomName: string; lastMessage: string; type: string }[];
      };
      return list.data.length === 3 && list.data.every((c) => c.lastMessage) ? list.data : undefined;
    });
    const web = live.filter((c) => c.type === 'web');
    const phone = live.find((c) => c.type === 'phone');
    const [ended, taken] = web.map((c) => c.roomName) as [string, string];
    expect(phone).toBeDefined();

    // End-call: livecalls asks the simulated LiveKit to delete the room; its webhooks end the call.
    const end = await api(`/v2/api/active-calls/${ended}/end-call`, { method: 'POST' });
    expect(end.status, await end.clone().text()).toBe(200);
    expect(livekit.deleted).toContain(ended);

    // Takeover: the agent's track is muted in the simulated room, and the script's agent says nothing more.
    const before = (await (await api(`/v2/api/active-calls/${taken}`)).json()) as Details;
    const agent = before.participants.find((p) => p.isAgent)?.identity ?? '';
    const mute = await api(`/v2/api/active-calls/${taken}/remove-agent`, {
      method: 'POST',
      body: JSON.stringify({ participantIdentity: agent }),
    });
    expect(mute.status, await mute.clone().text()).toBe(200);
    const agentTurnsAtTakeover = ((await (await api(`/v2/api/active-calls/${taken}`)).json()) as Details).transcript.filter(
      (t) => t.role === 'agent',
    ).length;

    // Transfer: the simulated SIP caller is referred elsewhere and leaves; the scripted call is over.
    const transfer = await api(`/v2/api/active-calls/${phone?.roomName}/transfer`, {
      method: 'POST',
      body: JSON.stringify({ to: 'tel:+14155550000' }),
    });
    expect(transfer.status, await transfer.clone().text()).toBe(200);
    expect(livekit.transfers.map((x) => x.room)).toEqual([phone?.roomName]);

    const stats = await done;
    expect(stats).toMatchObject({ started: 3, ended: 3, failed: 0, errors: 0, fatal: undefined });
    const endedCall = (await (await api(`/v2/api/calls/${web[0]?.id}`)).json()) as Details;
    expect(endedCall).toMatchObject({ status: 'ended', endReason: 'ended_by_api' });
    const transferred = (await (await api(`/v2/api/calls/${phone?.id}`)).json()) as Details & { transcript: unknown[] };
    expect(transferred.status).toBe('ended');
    expect((transferred as unknown as { transfer: { outcome: string; to: string } }).transfer).toMatchObject({
      outcome: 'accepted',
      to: 'tel:+14155550000',
    });
    const takenCall = (await (await api(`/v2/api/calls/${web[1]?.id}`)).json()) as Details;
    expect(takenCall.humanTakeover).toBe(true);
    expect(takenCall.transcript.filter((t) => t.role === 'agent').length).toBe(agentTurnsAtTakeover);
    // The scripted caller kept talking to the person who took over: the call ran to its end.
    const script = calls.find((c) => c.roomName === taken);
    expect(takenCall.transcript.length).toBeGreaterThan(agentTurnsAtTakeover);
    expect(script).toBeDefined();
    expect((await (await api('/v2/api/active-calls')).json()).count).toBe(0);
  }, 90_000);
});
