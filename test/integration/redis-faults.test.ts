/**
 * Redis going away: /readyz fails, requests that need it answer 503 (so LiveKit and agent workers retry),
 * the process stays up, and it recovers by itself when Redis is back. Redis is reached through a proxy
 * that the test cuts and restores, so the machine's Redis itself keeps running for other tests.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { dropRedisPrefix, randomName, redisReachable, TEST_SECRET } from '../helpers/backends.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { startProxy, type Proxy } from '../helpers/tcp-proxy.ts';

const up = await redisReachable();
const prefix = randomName('lcfault');
const dir = tempDir('livecalls-fault-');
let proxy: Proxy | undefined;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill();
  await proxy?.close();
  if (up) await dropRedisPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!up)('Redis faults', () => {
  it('fails readiness and answers 503 while Redis is away, then recovers by itself', async () => {
    proxy = await startProxy(6379);
    server = await startServer({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      LIVECALLS_SECRET: TEST_SECRET,
      LIVECALLS_REDIS_PREFIX: prefix,
      LIVECALLS_DATA_DIR: dir,
      LIVEKIT_API_KEY: LK_KEY,
      LIVEKIT_API_SECRET: LK_SECRET,
    });
    const printed = /workspace id: (ws_[0-9a-f]+)[\s\S]*API key:\s+(lc_\S+)/.exec(server.output());
    const headers = { 'x-api-key': printed?.[2] ?? '', 'x-workspace-id': printed?.[1] ?? '', 'content-type': 'application/json' };
    const post = (id: string) =>
      fetch(`${server?.url}/v2/api/active-calls/call-f/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events: [{ id, createdAt: Date.now(), type: 'transcript', role: 'customer', content: `turn ${id}` }] }),
      });
    expect((await post('before')).status).toBe(202);

    await proxy.cut();
    await waitFor(async () => (await fetch(`${server?.url}/readyz`)).status === 503);
    const refused = await post('during');
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('service_unavailable');
    const list = await fetch(`${server.url}/v2/api/active-calls`, { headers });
    expect(list.status).toBe(503);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(server.proc.exitCode).toBeNull();

    await proxy.restore();
    await waitFor(async () => (await fetch(`${server?.url}/readyz`)).status === 200);
    // The worker's retry of the refused event now lands; nothing was half-applied.
    expect((await post('during')).status).toBe(202);
    const details = await (await fetch(`${server.url}/v2/api/active-calls/call-f`, { headers })).json();
    expect(details.transcript.map((t: { content: string }) => t.content)).toEqual(['turn before', 'turn during']);
  });
});
