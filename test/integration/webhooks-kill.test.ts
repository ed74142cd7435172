/**
 * A committed change never loses its webhook: call changes are sent to the real server process (on the
 * embedded store, and on Redis + PostgreSQL, whose commit keeps the news in a Redis stream that the worker
 * moves into the PostgreSQL outbox) while it is killed with SIGKILL at random points and restarted on the
 * same data directory and servers; the sender retries every
 * event until it is acknowledged (as LiveKit does), and the receiver must then see every expected webhook,
 * by its `webhook-id`, exactly once (a repeat of the same id is at-least-once delivery, counted).
 *
 * Why the retries matter: an event committed just before the kill is unanswered, so its retry is a
 * duplicate the store skips; with an outbox written after the commit, that change's webhook was lost.
 */
import { rmSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/simulate/sign.ts';
import { webhookId } from '../../src/webhooks/events.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { room, webhook } from '../helpers/livekit.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, TEST_SECRET } from '../helpers/backends.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process.ts';

const ROOMS = 300;
const SENDERS = 6;
const KILLS = 5;

const [pgUp, redisUp] = await Promise.all([pgReachable(), redisReachable()]);
let server: ServerProcess | undefined;
let receiver: Receiver | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await server?.kill('SIGKILL');
  server = undefined;
  await receiver?.close();
  receiver = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the kill -9 case against a server on `backend` (env added to the embedded default). */
async function killCase(label: string, backend: Record<string, string>): Promise<void> {
  receiver = await startReceiver();
  const port = await freePort();
  const dataDir = tempDir('livecalls-hooks-kill-');
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env = {
    ...backend,
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true',
    LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true',
  };
  server = await startServer(env, port);
  const url = server.url;
  const printed = /workspace id: (ws_[0-9a-f]+)[\s\S]*API key:\s+(lc_\S+)/.exec(server.output());
  const [, workspaceId = '', apiKey = ''] = printed ?? [];
  expect(workspaceId).not.toBe('');
  const headers = { 'x-api-key': apiKey, 'x-workspace-id': workspaceId, 'content-type': 'application/json' };
  const registered = await fetch(`${url}/v2/api/webhooks`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ url: receiver.url, events: ['call.started', 'call.ended'] }),
  });
  expect(registered.status).toBe(201);
  const { secret } = (await registered.json()) as { secret: string };

  // Each event is signed once and re-sent as is until a 200 answers it: a retry carries the same event id.
  let unanswered = 0;
  async function send(event: ReturnType<typeof webhook>): Promise<void> {
    const { body, authorization } = await signWebhook(event, LK_KEY, LK_SECRET);
    for (;;) {
      try {
        const res = await fetch(`${url}/webhooks/livekit`, {
          method: 'POST',
          headers: { 'content-type': 'application/webhook+json', authorization },
          body,
        });
        if (res.status === 200) return;
      } catch {
        // The server is down (killed, restarting): try again.
      }
      unanswered += 1;
      await sleep(50);
    }
  }

  const names = Array.from({ length: ROOMS }, (_, i) => `kill-call-${i}`);
  let next = 0;
  let sent = 0;
  const sending = Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let i = next++; i < ROOMS; i = next++) {
        const at = Date.now();
        const r = room({ name: names[i] ?? '', workspaceId, createdAt: at - 1_000 });
        await send(webhook('room_started', r, at - 1_000));
        sent += 1;
        await send(webhook('room_finished', r, Date.now()));
        sent += 1;
      }
    }),
  );
  let done = false;
  void sending.finally(() => (done = true));

  // Kills at random moments while the events flow; each restart on the same port and data directory.
  let kills = 0;
  while (kills < KILLS && !done) {
    await sleep(50 + Math.random() * 250);
    if (done) break;
    expect(await server.kill('SIGKILL')).toBeNull();
    kills += 1;
    server = await startServer(env, port);
  }
  await sending;
  expect(kills).toBeGreaterThanOrEqual(3);

  const expected = new Set(names.flatMap((name) => [`call.started ${name}`, `call.ended ${name}`]));
  const wh = new Webhook(secret);
  const tally = () => {
    const ids = new Map<string, Set<string>>();
    for (const q of receiver?.received ?? []) {
      const event = wh.verify(q.body, receiver?.webhookHeaders(q) ?? {}) as {
        type: string;
        data: { roomName: string; callId: string };
      };
      const id = String(q.headers['webhook-id']);
      // The id is the deterministic one for the call and type: the same news always carries the same id.
      expect(id).toBe(webhookId(workspaceId, event.data.callId, event.type as 'call.started' | 'call.ended'));
      const key = `${event.type} ${event.data.roomName}`;
      const seen = ids.get(key) ?? new Set<string>();
      seen.add(id);
      ids.set(key, seen);
    }
    return ids;
  };
  // A delivery held by a killed process is retaken when its lease runs out (the timeout plus a minute).
  const deadline = Date.now() + 150_000;
  while ([...expected].some((k) => !tally().has(k)) && Date.now() < deadline) await sleep(250);
  // Settled: what is still in flight (a retry of a delivery whose answer was lost) has had its chance.
  await sleep(2_000);

  const ids = tally();
  const missing = [...expected].filter((k) => !ids.has(k));
  const unexpected = [...ids.keys()].filter((k) => !expected.has(k));
  const distinct = [...ids.values()].reduce((n, s) => n + s.size, 0);
  const received = receiver.received.length;
  console.log(
    `webhooks across kill -9 (${label}): events sent ${sent}, kills ${kills}, retried sends ${unanswered}, ` +
      `webhooks expected ${expected.size}, delivered ${distinct} distinct ids (${received} requests), ` +
      `duplicates ${received - distinct}, missing ${missing.length}`,
  );
  expect(missing).toEqual([]);
  expect(unexpected).toEqual([]);
  // One id per change: never the same news under two ids.
  for (const [key, set] of ids) expect(set.size, key).toBe(1);
  expect(distinct).toBe(expected.size);
}

describe('outgoing webhooks across kill -9', () => {
  it(
    'embedded: delivers the webhook of every acknowledged change, each message id at least once and none missing',
    { timeout: 300_000 },
    () => killCase('embedded', {}),
  );

  it.skipIf(!pgUp || !redisUp)(
    'Redis + PostgreSQL: delivers the webhook of every acknowledged change, each message id at least once and none missing',
    { timeout: 300_000 },
    async () => {
      const db = await createDatabase();
      const prefix = randomName('lckill');
      cleanups.push(async () => {
        await db.drop();
        await dropRedisPrefix(prefix);
      });
      await killCase('Redis + PostgreSQL', {
        DATABASE_URL: db.url,
        REDIS_URL: 'redis://127.0.0.1:6379',
        LIVECALLS_REDIS_PREFIX: prefix,
        LIVECALLS_SECRET: TEST_SECRET,
      });
    },
  );
});
