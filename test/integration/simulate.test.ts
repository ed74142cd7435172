/** The call simulator against the real server process: calls show up live, with transcripts, then end. */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulation, type SimulatedCall } from '../../src/simulate/simulator.ts';
import { SCRIPTS } from '../../src/simulate/scripts.ts';
import { openEmbeddedTenants } from '../../src/store/embedded/index.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.ts';

const run = promisify(execFile);
const dataDir = tempDir('livecalls-simulate-');
let server: ServerProcess;
let workspaceId = '';
let headers: Record<string, string> = {};

interface ListItem {
  roomName: string;
  type: string;
  customerPhone: string;
  customerName: string;
  aiAgentName: string;
  transferRequested: boolean;
  participants: { identity: string; isAgent: boolean }[];
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function cli(args: string[], env: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/livecalls.js', 'simulate', ...args], { cwd: ROOT, env, timeout: 90_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

beforeAll(async () => {
  const store = openEmbeddedTenants(dataDir);
  try {
    const workspace = await store.tenants.createWorkspace('simulated', Date.now());
    const { apiKey } = await store.tenants.createKey(workspace.id, Date.now());
    workspaceId = workspace.id;
    headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId };
  } finally {
    store.close();
  }
  server = await startServer({ LIVECALLS_DATA_DIR: dataDir, LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET });
});

afterAll(async () => {
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('simulating the quick start (a server without LiveKit)', () => {
  it('works from the same data directory with no key pair set, through the simulation key pair', async () => {
    const dir = tempDir('livecalls-quickstart-');
    const store = openEmbeddedTenants(dir);
    let ws: string;
    let key: string;
    try {
      const workspace = await store.tenants.createWorkspace('quick', Date.now());
      ws = workspace.id;
      key = (await store.tenants.createKey(workspace.id, Date.now())).apiKey;
    } finally {
      store.close();
    }
    const bare = await startServer({ LIVECALLS_DATA_DIR: dir, LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '' });
    try {
      const env = { ...process.env, LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '', LIVECALLS_DATA_DIR: dir };
      const res = await cli(['--workspace', ws, '--url', bare.url, '--calls', '2', '--turn-delay', '10'], env);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^calls 2\/2 started, 0 active, 2 ended, \d+ events, 0 errors$/m);
      // Real LiveKit webhooks (another key) are still refused as not configured.
      const foreign = await fetch(`${bare.url}/webhooks/livekit`, {
        method: 'POST',
        headers: { 'content-type': 'application/webhook+json', authorization: 'Bearer x.eyJpc3MiOiJBUElyZWFsIn0.y' },
        body: '{}',
      });
      expect(foreign.status).toBe(503);
      const calls = await fetch(`${bare.url}/v2/api/active-calls`, { headers: { 'x-api-key': key, 'x-workspace-id': ws } });
      expect(((await calls.json()) as { count: number }).count).toBe(0);
    } finally {
      await bare.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('call simulator', () => {
  it('shows simulated calls live with their transcripts, then ends them all', async () => {
    const generated = new Map<string, SimulatedCall>();
    const controller = new AbortController();
    // A long hold keeps the calls active until they have been checked; aborting then hangs them up.
    const done = runSimulation({
      baseUrl: server.url,
      workspaceId,
      livekitKey: LK_KEY,
      livekitSecret: LK_SECRET,
      calls: 4,
      concurrency: 4,
      turnDelayMs: 20,
      holdMs: 60_000,
      signal: controller.signal,
      onCall: (call) => generated.set(call.roomName, call),
    });

    const transcripts = new Map<string, { role: string; content: string }[]>();
    const deadline = Date.now() + 10_000;
    while (transcripts.size < 4 || [...generated.values()].some((c) => transcripts.get(c.roomName)?.length !== c.turns)) {
      expect(Date.now(), 'every transcript complete within 10 s').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
      for (const call of generated.values()) {
        const res = await fetch(`${server.url}/v2/api/active-calls/${call.roomName}`, { headers });
        if (res.ok) transcripts.set(call.roomName, ((await res.json()) as { transcript: { role: string; content: string }[] }).transcript);
      }
    }

    const list = await get<{ data: ListItem[]; count: number }>('/v2/api/active-calls');
    expect(list.count).toBe(4);
    expect(new Set(list.data.map((c) => c.type))).toEqual(new Set(['phone', 'web']));
    for (const item of list.data) {
      const call = generated.get(item.roomName);
      expect(call, item.roomName).toBeDefined();
      if (!call) continue;
      const script = SCRIPTS.find((s) => s.id === call.scenario);
      expect(item).toMatchObject({
        type: call.type,
        customerPhone: call.customerPhone ?? '',
        customerName: call.customerName,
        aiAgentName: call.agentName,
        transferRequested: script?.turns.some((t) => t.transfer !== undefined) ?? false,
      });
      expect(item.participants.map((p) => p.isAgent).sort()).toEqual([false, true]);
      if (call.type === 'phone') expect(item.participants.map((p) => p.identity)).toContain(`sip_${call.customerPhone}`);
      expect(transcripts.get(item.roomName)).toEqual(script?.turns.map((t) => ({ role: t.role, content: t.text })));
    }

    controller.abort();
    const stats = await done;
    expect(stats).toMatchObject({
      calls: 4,
      started: 4,
      ended: 4,
      failed: 0,
      active: 0,
      errors: 0,
      firstError: undefined,
      fatal: undefined,
    });
    // Per call: 3 webhooks in, one per turn, one customer_info, one per transfer request, 3 webhooks out.
    const expected = [...generated.values()].map((c) => {
      const transfers = SCRIPTS.find((s) => s.id === c.scenario)?.turns.filter((t) => t.transfer).length ?? 0;
      return 3 + c.turns + 1 + transfers + 3;
    });
    expect(stats.events).toBe(expected.reduce((a, b) => a + b, 0));
    expect((await get<{ count: number }>('/v2/api/active-calls')).count).toBe(0);
  });

  it('runs from the command line, and refuses bad input with a clear message', async () => {
    const env = { ...process.env, LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET };
    const emptyDir = tempDir('livecalls-simulate-empty-');
    const noKeys = { ...process.env, LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '', LIVECALLS_DATA_DIR: emptyDir };
    // The server's own data directory, but the server has a LiveKit pair: the simulation pair is not accepted.
    const wrongPair = { ...process.env, LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '', LIVECALLS_DATA_DIR: dataDir };
    const base = ['--workspace', workspaceId, '--url', server.url];
    const [ok, badCalls, noWorkspace, unsigned, refused] = await Promise.all([
      cli([...base, '--calls', '2', '--turn-delay', '10'], env),
      cli([...base, '--calls', '0'], env),
      cli(['--calls', '2', '--url', server.url], env),
      cli([...base, '--calls', '2'], noKeys),
      cli([...base, '--calls', '3', '--turn-delay', '10'], wrongPair),
    ]);
    rmSync(emptyDir, { recursive: true, force: true });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^calls 2\/2 started, 0 active, 2 ended, \d+ events, 0 errors$/m);
    expect(badCalls).toMatchObject({ code: 1, stderr: expect.stringContaining('--calls must be a whole number from 1 to 100000') });
    expect(noWorkspace).toMatchObject({ code: 1, stderr: expect.stringContaining('--workspace is required') });
    expect(unsigned).toMatchObject({ code: 1, stderr: expect.stringContaining('holds no server secret: start the server first') });
    // Refused for its signature: it stops at once, says why, and no call counts as ended.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the server refused the simulator's LiveKit signature");
    expect(refused.stdout).toMatch(/ 0 ended, \d+ failed/);
    expect((await get<{ count: number }>('/v2/api/active-calls')).count).toBe(0);
  }, 180_000);
});
