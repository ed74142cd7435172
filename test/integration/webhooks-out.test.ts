/**
 * The outbox is durable and shared: what was enqueued before a restart is delivered after it (embedded), a
 * change committed just before a crash still has its webhook delivered once on every store layout, two
 * instances draining one PostgreSQL outbox send every delivery exactly once.
 */
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { openStores } from '../../src/store/open.ts';
import type { Stores } from '../../src/store/types.ts';
import { webhookId } from '../../src/webhooks/events.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, TEST_SECRET } from '../helpers/backends.ts';
import { postWebhook, room, webhook } from '../helpers/livekit.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

const [pgUp, redisUp] = await Promise.all([pgReachable(), redisReachable()]);
const WAIT = { timeout: 20_000, interval: 25 };

interface Instance {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function boot(dataDir: string, env: Record<string, string> = {}): Promise<Instance> {
  return bootWith(dataDir, undefined, env);
}

/** `stores`: opened by the test (the configured ones otherwise). */
async function bootWith(dataDir: string, opened: Stores | undefined, env: Record<string, string> = {}): Promise<Instance> {
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true',
    LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const stores = opened ?? (await openStores(config));
  const services = createServices(config, { stores, log: pino({ level: 'silent' }) });
  const app = await buildApp(services);
  await app.ready();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await services.close();
  };
  cleanup.push(close);
  return { app, services, close };
}

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond);
  cleanup.push(() => r.close());
  return r;
}

async function workspace(i: Instance) {
  const now = Date.now();
  const ws = await i.services.stores.tenants.createWorkspace('hooks', now);
  const { apiKey } = await i.services.stores.tenants.createKey(ws.id, now);
  return { id: ws.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
}

async function register(i: Instance, headers: Record<string, string>, url: string) {
  const res = await i.app.inject({ method: 'POST', url: '/v2/api/webhooks', headers, payload: { url, events: ['call.started'] } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; secret: string };
}

async function startCall(i: Instance, workspaceId: string, name: string) {
  const at = Date.now();
  const res = await postWebhook(i.app, webhook('room_started', room({ name, workspaceId, createdAt: at }), at));
  expect(res.statusCode).toBe(200);
}

describe('embedded outbox across a restart', () => {
  it('delivers after a restart what was enqueued before it, once', async () => {
    const dir = tempDir('livecalls-hooks-restart-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const r = await receiver();
    const first = await boot(dir);
    const ws = await workspace(first);
    const ep = await register(first, ws.headers, r.url);
    // The worker never started: the event is only in the outbox when the process goes away.
    await startCall(first, ws.id, 'call-before-restart');
    const before = await first.app.inject({ url: `/v2/api/webhooks/${ep.id}/deliveries`, headers: ws.headers });
    expect(before.json().data).toMatchObject([{ eventType: 'call.started', status: 'pending', attempts: 0 }]);
    await first.close();
    expect(r.received).toHaveLength(0);

    const second = await boot(dir);
    second.services.webhooks.start();
    await vi.waitFor(() => expect(r.received).toHaveLength(1), WAIT);
    const [got] = r.received;
    if (!got) throw new Error('nothing received');
    expect(new Webhook(ep.secret).verify(got.body, r.webhookHeaders(got))).toMatchObject({
      type: 'call.started',
      data: { roomName: 'call-before-restart' },
    });
    // The receiver records a request before it answers: the delivery is marked once the answer is read.
    await vi.waitFor(async () => {
      const after = await second.app.inject({ url: `/v2/api/webhooks/${ep.id}/deliveries`, headers: ws.headers });
      expect(after.json().data).toMatchObject([{ eventId: got.headers['webhook-id'], status: 'delivered', attempts: 1 }]);
    }, WAIT);
    await second.services.webhooks.stop();
    expect(r.received).toHaveLength(1);
  });
});

describe('a committed change keeps its webhook across a crash', () => {
  /**
   * The store's commit alone, without the change listener and the worker that run after it: what a process
   * killed right after the commit leaves. Reopened on the same stores, the webhook goes out, once: written in
   * the commit, either into the outbox itself or into the store's relay, which the worker moves.
   */
  async function commitThenCrash(env: Record<string, string>, relayWebhooks = false, reopenRelaying = relayWebhooks) {
    const dir = tempDir('livecalls-hooks-crash-');
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const open = (relay: boolean) =>
      relay ? createEmbeddedStores(dir, 'normal', undefined, undefined, { relayWebhooks: true }) : undefined;
    const first = await bootWith(dir, open(relayWebhooks), env);
    const ws = await workspace(first);
    const r = await receiver();
    const ep = await register(first, ws.headers, r.url);
    const at = Date.now();
    const room = { sid: 'RM_crash', name: 'call-crash', createdAt: at, agentName: 'Agent', customerName: null };
    const result = await first.services.stores.calls.ingest(
      ws.id,
      'call-crash',
      [{ type: 'room_started', id: 'EV_crash', at, room }],
      first.services.calls.folder,
      at,
    );
    expect(result.applied).toBe(1);
    const expected = webhookId(ws.id, result.changes[0]?.after.id ?? '', 'call.started');
    await first.close();
    expect(r.received).toHaveLength(0);

    const second = await bootWith(dir, open(reopenRelaying), env);
    second.services.webhooks.start();
    await vi.waitFor(() => expect(r.received).toHaveLength(1), WAIT);
    expect(r.received[0]?.headers['webhook-id']).toBe(expected);
    await vi.waitFor(async () => {
      const res = await second.app.inject({ url: `/v2/api/webhooks/${ep.id}/deliveries`, headers: ws.headers });
      expect(res.json().data).toMatchObject([{ eventId: expected, status: 'delivered', attempts: 1 }]);
    }, WAIT);
    await second.services.webhooks.stop();
    expect(r.received).toHaveLength(1);
    expect(await second.services.stores.calls.relay?.take(10)).toEqual(second.services.stores.calls.relay ? [] : undefined);
    return second;
  }

  it('embedded: written into the outbox in the commit', async () => {
    const i = await commitThenCrash({});
    expect(i.services.stores.calls.outboxInCommit).toBe(true);
  });

  it('embedded, news kept in the relay', async () => {
    const i = await commitThenCrash({}, true);
    expect(i.services.stores.calls.outboxInCommit).toBe(false);
  });

  it('embedded, news kept in the relay, reopened with the outbox in the commit: the relay is still moved', async () => {
    const i = await commitThenCrash({}, true, false);
    expect(i.services.stores.calls.outboxInCommit).toBe(true);
  });

  it.skipIf(!pgUp)('embedded calls with the outbox in PostgreSQL', async () => {
    const db = await createDatabase();
    cleanup.push(() => db.drop());
    const i = await commitThenCrash({ DATABASE_URL: db.url, LIVECALLS_SECRET: TEST_SECRET });
    expect(i.services.stores.calls.relay).toBeDefined();
  });

  it.skipIf(!pgUp || !redisUp)('Redis + PostgreSQL', async () => {
    const db = await createDatabase();
    const prefix = randomName('lchooks');
    cleanup.push(async () => {
      await db.drop();
      await dropRedisPrefix(prefix);
    });
    const i = await commitThenCrash({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      LIVECALLS_REDIS_PREFIX: prefix,
      LIVECALLS_SECRET: TEST_SECRET,
    });
    expect(i.services.stores.calls.relay).toBeDefined();
  });
});

describe.skipIf(!pgUp)('two instances sharing one PostgreSQL outbox', () => {
  it('send every delivery exactly once between them', async () => {
    const db = await createDatabase();
    cleanup.push(() => db.drop());
    const dirs = [tempDir('livecalls-hooks-a-'), tempDir('livecalls-hooks-b-')];
    cleanup.push(async () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    // Slow answers keep every send slot busy, so both instances keep claiming while the other sends. One
    // workspace here: its cap on deliveries held at once is raised past both instances' slots, or one instance
    // alone could hold all it may.
    const r = await receiver(() => new Promise((resolve) => setTimeout(() => resolve(200), 15)));
    const env = {
      DATABASE_URL: db.url,
      LIVECALLS_SECRET: TEST_SECRET,
      LIVECALLS_WEBHOOKS_CONCURRENCY: '4',
      LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY: '16',
    };
    const [a, b] = await Promise.all(dirs.map((d) => boot(d, env)));
    if (!a || !b) throw new Error('instances not started');
    const ws = await workspace(a);
    const endpoints = [await register(a, ws.headers, `${r.url}/one`), await register(b, ws.headers, `${r.url}/two`)];
    const calls = 30;
    for (let n = 0; n < calls; n++) await startCall(a, ws.id, `call-${n}`);
    // Each commit kept its news in a's relay (its calls are embedded, the outbox is shared): into the outbox
    // first, so that both workers find every delivery due from their first claim.
    await a.services.webhooks.move();
    expect(r.received).toHaveLength(0);

    a.services.webhooks.start();
    b.services.webhooks.start();
    const expected = calls * endpoints.length;
    await vi.waitFor(() => expect(r.received.length).toBeGreaterThanOrEqual(expected), WAIT);
    await Promise.all([a.services.webhooks.stop(), b.services.webhooks.stop()]);

    const keys = r.received.map((q) => `${q.path} ${String(q.headers['webhook-id'])}`);
    expect(keys).toHaveLength(expected);
    expect(new Set(keys).size).toBe(expected);
    for (const [i, ep] of endpoints.entries()) {
      const mine = r.received.filter((q) => q.path === `/hooks/${i === 0 ? 'one' : 'two'}`);
      expect(mine).toHaveLength(calls);
      for (const q of mine) expect(() => new Webhook(ep.secret).verify(q.body, r.webhookHeaders(q))).not.toThrow();
      const log = await b.app.inject({ url: `/v2/api/webhooks/${ep.id}/deliveries?limit=100`, headers: ws.headers });
      expect(log.json().data).toHaveLength(calls);
      expect(log.json().data.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    }
    // Both took part: the race was real.
    const delivered = await Promise.all(
      [a, b].map(
        async (i) => (await i.services.metrics.webhookDeliveries.get()).values.find((v) => v.labels.result === 'delivered')?.value ?? 0,
      ),
    );
    expect(delivered.every((n) => n > 0)).toBe(true);
    expect(delivered.reduce((x, y) => x + y, 0)).toBe(expected);
  });
});
