/**
 * The live stream across instances: two apps share one Redis and one PostgreSQL. A client on instance B
 * sees what instance A ingests, in order, and resumes on A with the ids B gave it.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, REDIS_URL, TEST_SECRET } from '../helpers/backends.ts';
import { postAgentEvents, turn } from '../helpers/livekit.ts';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse.ts';

const up = (await redisReachable()) && (await pgReachable());
const prefix = randomName('lcstream');
const dirs = [tempDir('livecalls-stream-a-'), tempDir('livecalls-stream-b-')];
let db: Awaited<ReturnType<typeof createDatabase>> | undefined;
const instances: { app: FastifyInstance; services: Services; url: string }[] = [];
const clients: SseClient[] = [];
let headers: Record<string, string> = {};

beforeAll(async () => {
  if (!up) return;
  db = await createDatabase();
  for (const dir of dirs) {
    const config = loadConfig({
      REDIS_URL,
      LIVECALLS_SECRET: TEST_SECRET,
      DATABASE_URL: db.url,
      LIVECALLS_REDIS_PREFIX: prefix,
      LIVECALLS_DATA_DIR: dir,
      LIVEKIT_API_KEY: LK_KEY,
      LIVEKIT_API_SECRET: LK_SECRET,
      LOG_LEVEL: 'silent',
    });
    const log = pino({ level: 'silent' });
    const services = createServices(config, { log, stores: await openStores(config, log) });
    const app = await buildApp(services);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    instances.push({ app, services, url });
  }
  const tenants = instances[0]?.services.stores.tenants;
  if (!tenants) throw new Error('no instance');
  const ws = await tenants.createWorkspace('shared', Date.now());
  const { apiKey } = await tenants.createKey(ws.id, Date.now());
  headers = { 'x-api-key': apiKey, 'x-workspace-id': ws.id };
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const i of instances) {
    await i.app.close();
    await i.services.close();
  }
  await db?.drop();
  if (up) await dropRedisPrefix(prefix);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function instance(n: 0 | 1) {
  const i = instances[n];
  if (!i) throw new Error('instance not started');
  return i;
}

async function sse(n: 0 | 1, extra: Record<string, string> = {}) {
  const c = await openSse(`${instance(n).url}/v2/api/active-calls/stream`, { ...headers, ...extra });
  clients.push(c);
  return c;
}

const started = (room: string) => (f: SseFrame) => f.event === 'call.started' && f.data.includes(`"roomName":"${room}"`);

describe.skipIf(!up)('live stream on Redis, two instances', () => {
  it('a client on B sees, in order, what A and B ingest', async () => {
    const onB = await sse(1);
    await onB.next((f) => f.event === 'snapshot');
    for (const [n, room] of [
      [0, 'from-a-1'],
      [1, 'from-b'],
      [0, 'from-a-2'],
    ] as const) {
      expect((await postAgentEvents(instance(n).app, room, [turn('customer', `hello ${room}`, Date.now())], { headers })).statusCode).toBe(
        202,
      );
    }
    await onB.next(started('from-a-2'));
    const rooms = onB.frames
      .filter((f) => f.event === 'call.started')
      .map((f) => (JSON.parse(f.data) as { call: { roomName: string } }).call.roomName);
    expect(rooms).toEqual(['from-a-1', 'from-b', 'from-a-2']);
  });

  it('resumes on A with an id B gave, without a snapshot', async () => {
    const onB = await sse(1);
    await onB.next((f) => f.event === 'snapshot');
    await postAgentEvents(instance(0).app, 'resume-1', [turn('customer', 'one', Date.now())], { headers });
    const seen = await onB.next(started('resume-1'));
    onB.close();
    await postAgentEvents(instance(1).app, 'resume-2', [turn('customer', 'two', Date.now())], { headers });
    const onA = await sse(0, { 'last-event-id': seen.id ?? '' });
    await onA.next(started('resume-2'));
    expect(onA.frames.map((f) => f.event)).toEqual(['call.started']);
  });

  it('frames follow commit order: under concurrent writes from both instances, the last frame is the final state', async () => {
    const onB = await sse(1);
    await onB.next((f) => f.event === 'snapshot');
    const t0 = Date.now();
    const posts = Array.from({ length: 40 }, (_, i) =>
      postAgentEvents(instance(i % 2 === 0 ? 0 : 1).app, 'busy', [turn(i % 3 === 0 ? 'agent' : 'customer', `turn ${i}`, t0 + i)], {
        headers,
      }),
    );
    for (const res of await Promise.all(posts)) expect(res.statusCode).toBe(202);
    const list = (await instance(0).app.inject({ url: '/v2/api/active-calls', headers })).json<{ data: { roomName: string }[] }>();
    const final = list.data.find((c) => c.roomName === 'busy');
    const deadline = Date.now() + 5_000;
    const busyFrames = () => onB.frames.filter((f) => f.event !== 'snapshot' && f.data.includes('"roomName":"busy"'));
    let newTurns: string[];
    for (;;) {
      newTurns = busyFrames().flatMap(
        (f) => (JSON.parse(f.data) as { newTurns?: { content: string }[] }).newTurns?.map((n) => n.content) ?? [],
      );
      const started = busyFrames().filter((f) => f.event === 'call.started').length;
      if (newTurns.length + started >= 40 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const last = busyFrames().at(-1);
    const lastCall = (JSON.parse(last?.data ?? '{}') as { call: Record<string, unknown> }).call;
    expect({ ...lastCall, duration: 0 }).toEqual({ ...final, duration: 0 });
    // Each turn is announced once (the first one with call.started).
    expect(new Set(newTurns).size).toBe(newTurns.length);
  });
});
