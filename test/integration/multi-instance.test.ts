/**
 * Scale-out: two real server processes share one Redis and one PostgreSQL. What one ingests, the other
 * serves; keys made or revoked anywhere hold everywhere; an ended call is archived once.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/simulate/sign.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, REDIS_URL, TEST_SECRET } from '../helpers/backends.ts';
import { participant, room, webhook } from '../helpers/livekit.ts';
import { ROOT, startServer, statusWithin, type ServerProcess } from '../helpers/server-process.ts';

const run = promisify(execFile);
const up = (await redisReachable()) && (await pgReachable());
const prefix = randomName('lcmulti');
const dir = tempDir('livecalls-multi-');
let db: Awaited<ReturnType<typeof createDatabase>> | undefined;
let a: ServerProcess | undefined;
let b: ServerProcess | undefined;
let env: Record<string, string> = {};

beforeAll(async () => {
  if (!up) return;
  db = await createDatabase();
  env = {
    REDIS_URL,
    LIVECALLS_SECRET: TEST_SECRET,
    DATABASE_URL: db.url,
    LIVECALLS_REDIS_PREFIX: prefix,
    LIVECALLS_DATA_DIR: dir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVECALLS_KEY_CACHE_TTL: '1s',
  };
  a = await startServer(env);
  b = await startServer(env);
});
afterAll(async () => {
  await a?.kill();
  await b?.kill();
  await db?.drop();
  if (up) await dropRedisPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, ['bin/livecalls.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  return JSON.parse(stdout) as Record<string, string>;
}

async function sendWebhook(server: ServerProcess, ev: Parameters<typeof signWebhook>[0]): Promise<number> {
  const { body, authorization } = await signWebhook(ev, LK_KEY, LK_SECRET);
  const res = await fetch(`${server.url}/webhooks/livekit`, {
    method: 'POST',
    headers: { 'content-type': 'application/webhook+json', authorization },
    body,
  });
  return res.status;
}

describe.skipIf(!up)('two instances sharing Redis and PostgreSQL', () => {
  it('B serves what A ingested; keys and revocations hold on both; an ended call is archived once', async () => {
    if (!a || !b) throw new Error('servers not started');
    const { workspaceId = '', apiKey = '' } = await cli('workspaces', 'create', '--name', 'Shared');
    const headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId };
    const now = Date.now();
    const r = room({ name: 'call-multi', workspaceId, agentName: 'Multi Agent', createdAt: now - 30_000 });
    expect(await sendWebhook(a, webhook('room_started', r, now - 30_000))).toBe(200);
    expect(
      await sendWebhook(
        a,
        webhook('participant_joined', r, now - 29_000, participant('sip_+15550009999', 'sip', now - 29_000, { phone: '+15550009999' })),
      ),
    ).toBe(200);
    const events = [
      { id: 'm1', createdAt: now - 20_000, type: 'transcript', role: 'agent', content: 'Hello, billing department.' },
      { id: 'm2', createdAt: now - 10_000, type: 'transcript', role: 'customer', content: 'My invoice is wrong and I am not happy.' },
    ];
    const posted = await fetch(`${a.url}/v2/api/active-calls/call-multi/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(posted.status).toBe(202);

    const listA = await (await fetch(`${a.url}/v2/api/active-calls`, { headers })).json();
    const listB = await (await fetch(`${b.url}/v2/api/active-calls`, { headers })).json();
    expect(listB.count).toBe(1);
    expect(listB.data[0]).toMatchObject({
      roomName: 'call-multi',
      type: 'phone',
      customerPhone: '+15550009999',
      aiAgentName: 'Multi Agent',
      sentiment: 'negative',
    });
    expect(listB.data.map(({ duration: _d, ...c }: { duration: number }) => c)).toEqual(
      listA.data.map(({ duration: _d, ...c }: { duration: number }) => c),
    );
    const details = await (await fetch(`${b.url}/v2/api/active-calls/call-multi`, { headers })).json();
    expect(details.transcript).toHaveLength(2);
    const insights = await (await fetch(`${b.url}/v2/api/active-calls/call-multi/insights`, { headers })).json();
    expect(insights.topics).toContain('billing');

    // A key made by the CLI works on both; revoked, both refuse it within the key cache's TTL (1 s here).
    const extra = await cli('keys', 'create', '--workspace', workspaceId);
    const extraHeaders = { 'x-api-key': extra.apiKey ?? '', 'x-workspace-id': workspaceId };
    for (const s of [a, b]) expect((await fetch(`${s.url}/v2/api/active-calls`, { headers: extraHeaders })).status).toBe(200);
    await cli('keys', 'revoke', extra.keyId ?? '');
    for (const s of [a, b]) {
      const status = await statusWithin(
        async () => (await fetch(`${s.url}/v2/api/active-calls`, { headers: extraHeaders })).status,
        401,
        3_000,
      );
      expect(status).toBe(401);
    }

    // LiveKit's retry of room_finished reaches both instances at once.
    const finished = webhook('room_finished', r, now, undefined, 'EV_finish_once');
    expect(await Promise.all([sendWebhook(a, finished), sendWebhook(b, finished)])).toEqual([200, 200]);
    expect((await (await fetch(`${a.url}/v2/api/active-calls`, { headers })).json()).count).toBe(0);
    const ended = await (await fetch(`${b.url}/v2/api/calls/${listA.data[0].id}`, { headers })).json();
    expect(ended).toMatchObject({ status: 'ended', endReason: 'room_finished', sentiment: 'negative' });
    // LiveKit stamps events in whole seconds.
    expect([29, 30]).toContain(ended.duration);
    expect(ended.transcript.map((t: { content: string }) => t.content)).toEqual(events.map((e) => e.content));
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: db?.url });
    await client.connect();
    const rows = await client.query('SELECT count(*)::int AS n FROM archived_calls WHERE id = $1', [listA.data[0].id]);
    const turns = await client.query('SELECT count(*)::int AS n FROM archived_turns WHERE call_id = $1', [listA.data[0].id]);
    await client.end();
    expect(rows.rows[0].n).toBe(1);
    expect(turns.rows[0].n).toBe(2);
  });
});
