/**
 * Outgoing webhooks end to end on the embedded store: registration, Standard Webhooks signatures checked
 * with the standardwebhooks library, every event type from the real ingest paths, retries on the service
 * clock, giving up, workspace isolation, refusing non-public addresses, and committed news kept while the
 * outbox is unreachable. The receiver is a real local HTTP server (on 127.0.0.1, hence LIVECALLS_WEBHOOKS_ALLOW_PRIVATE).
 */
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookStore } from '../../src/store/types.ts';
import { pgOutage, unavailable } from '../../src/store/unavailable.ts';
import { newEndpointId, RELAY_GIVE_UP_MS } from '../../src/webhooks/service.ts';
import { newSigningSecret } from '../../src/webhooks/signing.ts';
import { createTestApp, type TestApp, type TestWorkspace } from '../helpers/app.ts';
import { participant, postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

const ALL_EVENTS = ['call.started', 'call.ended', 'call.transfer_requested', 'call.sentiment_changed'];
const WAIT = { timeout: 10_000, interval: 20 };
const NOT_PUBLIC_LOOPBACK = /^endpoint address (127\.0\.0\.1|::1) is not public$/;

const ENV = {
  LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true',
  LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true',
  LIVECALLS_WEBHOOKS_MAX_ATTEMPTS: '3',
};

let t: TestApp;
let receivers: Receiver[] = [];
beforeEach(async () => {
  t = await createTestApp(ENV);
});
afterEach(async () => {
  await t.close();
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

async function register(ws: TestWorkspace, url: string, events = ALL_EVENTS) {
  const res = await t.app.inject({ method: 'POST', url: '/v2/api/webhooks', headers: ws.headers, payload: { url, events } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; secret: string; url: string; events: string[] };
}

async function deliveries(ws: TestWorkspace, id: string) {
  const res = await t.app.inject({ url: `/v2/api/webhooks/${id}/deliveries`, headers: ws.headers });
  expect(res.statusCode).toBe(200);
  return res.json().data as {
    eventId: string;
    eventType: string;
    status: string;
    attempts: number;
    lastResponseStatus: number | null;
    lastError: string | null;
    nextAttemptAt: string | null;
    history: { attempt: number; responseStatus: number | null; error: string | null }[];
  }[];
}

/** Starts a phone call in `ws` through signed LiveKit webhooks, as LiveKit would. */
async function startCall(ws: TestWorkspace, name: string, startedAt = t.clock.now - 60_000) {
  const r = room({ name, workspaceId: ws.id, agentName: 'Support Agent', createdAt: startedAt });
  expect((await postWebhook(t.app, webhook('room_started', r, startedAt))).statusCode).toBe(200);
  const caller = participant('sip_+14155551234', 'sip', startedAt + 1000, { phone: '+14155551234' });
  expect((await postWebhook(t.app, webhook('participant_joined', r, startedAt + 1000, caller))).statusCode).toBe(200);
  return r;
}

function types(r: Receiver): string[] {
  return r.received.map((q) => (JSON.parse(q.body) as { type: string }).type);
}

describe('outgoing webhooks', () => {
  it('registers, lists, reads and removes endpoints; the signing secret is shown only at registration', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v2/api/webhooks',
      headers: t.ws.headers,
      payload: { url: 'https://hooks.example.com/livecalls', events: ['call.ended', 'call.started', 'call.ended'], description: 'CRM' },
    });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      url: 'https://hooks.example.com/livecalls',
      events: ['call.ended', 'call.started'],
      description: 'CRM',
    });
    expect(created.id).toMatch(/^ep_[0-9a-f]{16}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.createdAt).toBe(new Date(t.clock.now).toISOString());

    const list = (await t.app.inject({ url: '/v2/api/webhooks', headers: t.ws.headers })).json();
    expect(list.data).toEqual([
      { id: created.id, url: created.url, events: created.events, description: 'CRM', createdAt: created.createdAt },
    ]);
    const one = await t.app.inject({ url: `/v2/api/webhooks/${created.id}`, headers: t.ws.headers });
    expect(one.statusCode).toBe(200);
    expect(one.json()).not.toHaveProperty('secret');

    expect((await t.app.inject({ method: 'DELETE', url: `/v2/api/webhooks/${created.id}`, headers: t.ws.headers })).statusCode).toBe(204);
    const gone = await t.app.inject({ url: `/v2/api/webhooks/${created.id}`, headers: t.ws.headers });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('not_found');
    expect((await t.app.inject({ method: 'DELETE', url: `/v2/api/webhooks/${created.id}`, headers: t.ws.headers })).statusCode).toBe(404);
  });

  it('delivers every event type from the real ingest paths, each signed per Standard Webhooks', async () => {
    const r = await receiver();
    const ep = await register(t.ws, r.url);
    t.services.webhooks.start();

    const lkRoom = await startCall(t.ws, 'call-hooks');
    await vi.waitFor(() => expect(types(r)).toEqual(['call.started']), WAIT);
    const say = (role: 'agent' | 'customer', text: string) => postAgentEvents(t.app, 'call-hooks', [turn(role, text, t.clock.now)], t.ws);
    expect((await say('agent', 'Hello, how can I help you today?')).statusCode).toBe(202);
    expect((await say('customer', 'Thanks, this is great, I love the service!')).statusCode).toBe(202);
    expect((await say('customer', 'Actually this is terrible, awful, I hate it, worst experience ever!')).statusCode).toBe(202);
    const transfer = [{ id: 'xfer-1', createdAt: t.clock.now, type: 'transfer_requested', reason: 'wants a human' }];
    expect((await postAgentEvents(t.app, 'call-hooks', transfer, t.ws)).statusCode).toBe(202);
    expect((await postWebhook(t.app, webhook('room_finished', lkRoom, t.clock.now))).statusCode).toBe(200);

    await vi.waitFor(() => expect(r.received).toHaveLength(5), WAIT);
    const wh = new Webhook(ep.secret);
    const events = r.received.map((q) => {
      expect(q.path).toBe('/hooks');
      expect(q.headers['content-type']).toBe('application/json');
      return wh.verify(q.body, r.webhookHeaders(q)) as { type: string; timestamp: string; data: Record<string, unknown> };
    });
    // The signature covers the body and the id: any change is refused.
    const first = r.received[0];
    if (!first) throw new Error('nothing received');
    expect(() => wh.verify(first.body.replace('call-hooks', 'call-other'), r.webhookHeaders(first))).toThrow();
    expect(() => wh.verify(first.body, { ...r.webhookHeaders(first), 'webhook-id': 'msg_forged' })).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(first.body, r.webhookHeaders(first))).toThrow();

    const byType = new Map(events.map((e) => [e.type, e] as const));
    const common = { roomName: 'call-hooks', type: 'phone', aiAgentName: 'Support Agent', customerPhone: '+14155551234' };
    // Sent at room_started, before the caller joined: what is known then (call.ended carries the rest).
    expect(byType.get('call.started')?.data).toMatchObject({ roomName: 'call-hooks', aiAgentName: 'Support Agent', customerPhone: '' });
    expect(events.filter((e) => e.type === 'call.sentiment_changed').map((e) => [e.data.from, e.data.to])).toEqual([
      ['neutral', 'positive'],
      ['positive', 'negative'],
    ]);
    expect(byType.get('call.transfer_requested')?.data).toMatchObject({ ...common, reason: 'wants a human' });
    const ended = byType.get('call.ended');
    expect(ended?.timestamp).toBe(new Date(t.clock.now).toISOString());
    expect(ended?.data).toMatchObject({
      ...common,
      endReason: 'room_finished',
      duration: 60,
      sentiment: 'negative',
      transferRequested: true,
      endedAt: new Date(t.clock.now).toISOString(),
    });
    expect(ended?.data.sentimentScore).toBeLessThan(0);
    expect((ended?.data.transcript as { role: string; content: string }[]).map((x) => x.role)).toEqual(['agent', 'customer', 'customer']);
    const callId = ended?.data.callId;
    expect(events.every((e) => e.data.callId === callId)).toBe(true);

    const ids = r.received.map((q) => q.headers['webhook-id']);
    expect(new Set(ids).size).toBe(5);
    const log = await deliveries(t.ws, ep.id);
    expect(log).toHaveLength(5);
    expect(log.map((d) => d.eventId).sort()).toEqual([...ids].sort());
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastResponseStatus === 200 && d.nextAttemptAt === null)).toBe(
      true,
    );
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/livecalls_webhook_deliveries_total\{result="delivered"\} 5/);
  });

  it('sends an endpoint only the events it subscribed to', async () => {
    const endedOnly = await receiver();
    const startedOnly = await receiver();
    await register(t.ws, endedOnly.url, ['call.ended']);
    await register(t.ws, startedOnly.url, ['call.started']);
    t.services.webhooks.start();
    const r = await startCall(t.ws, 'call-sub');
    await postWebhook(t.app, webhook('room_finished', r, t.clock.now));
    await vi.waitFor(() => expect([types(endedOnly), types(startedOnly)]).toEqual([['call.ended'], ['call.started']]), WAIT);
  });

  it('retries after a 500 on an exponential schedule, with the same webhook-id, until the endpoint answers 2xx', async () => {
    const r = await receiver((n) => (n === 1 ? 500 : 200));
    const ep = await register(t.ws, r.url, ['call.started']);
    t.services.webhooks.start();
    await startCall(t.ws, 'call-retry');
    await vi.waitFor(async () => expect((await deliveries(t.ws, ep.id))[0]?.attempts).toBe(1), WAIT);
    const [pending] = await deliveries(t.ws, ep.id);
    expect(pending).toMatchObject({ status: 'pending', lastResponseStatus: 500, lastError: 'endpoint answered HTTP 500' });
    const due = Date.parse(pending?.nextAttemptAt ?? '');
    // The first retry waits 5 s ±20 % on the service clock, which stands still until the test moves it.
    expect(due - t.clock.now).toBeGreaterThanOrEqual(4_000);
    expect(due - t.clock.now).toBeLessThanOrEqual(6_000);

    t.clock.advance(due - t.clock.now);
    t.services.webhooks.worker.kick();
    await vi.waitFor(async () => expect((await deliveries(t.ws, ep.id))[0]?.status).toBe('delivered'), WAIT);
    expect(r.received).toHaveLength(2);
    expect(r.received[1]?.headers['webhook-id']).toBe(r.received[0]?.headers['webhook-id']);
    expect(r.received[1]?.body).toBe(r.received[0]?.body);
    const [done] = await deliveries(t.ws, ep.id);
    expect(done?.history.map((a) => [a.attempt, a.responseStatus])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/livecalls_webhook_deliveries_total\{result="retry"\} 1/);
    expect(metrics).toMatch(/livecalls_webhook_deliveries_total\{result="delivered"\} 1/);
  });

  it('marks a delivery failed after the configured attempts; an unreachable endpoint records the error', async () => {
    const down = await receiver(() => 503);
    const closed = await startReceiver();
    await closed.close();
    const epDown = await register(t.ws, down.url, ['call.started']);
    const epClosed = await register(t.ws, closed.url, ['call.started']);
    t.services.webhooks.start();
    await startCall(t.ws, 'call-fail');
    for (let attempt = 1; attempt <= 3; attempt++) {
      await vi.waitFor(async () => {
        for (const id of [epDown.id, epClosed.id]) expect((await deliveries(t.ws, id))[0]?.attempts).toBe(attempt);
      }, WAIT);
      t.clock.advance(24 * 3_600_000);
      t.services.webhooks.worker.kick();
    }
    const [failed] = await deliveries(t.ws, epDown.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, nextAttemptAt: null, lastResponseStatus: 503 });
    const [refused] = await deliveries(t.ws, epClosed.id);
    expect(refused).toMatchObject({ status: 'failed', lastResponseStatus: null, lastError: 'request failed: ECONNREFUSED' });
    expect(down.received).toHaveLength(3);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/livecalls_webhook_deliveries_total\{result="failed"\} 2/);
    expect(metrics).toMatch(/livecalls_webhook_deliveries_total\{result="retry"\} 4/);
  });
});

describe('workspace isolation', () => {
  it("never shows, removes or delivers to another workspace's endpoints", async () => {
    const other = await t.newWorkspace('other');
    const mine = await receiver();
    const theirs = await receiver();
    const epMine = await register(t.ws, mine.url);
    const epTheirs = await register(other, theirs.url);
    for (const path of [`/v2/api/webhooks/${epMine.id}`, `/v2/api/webhooks/${epMine.id}/deliveries`]) {
      const res = await t.app.inject({ url: path, headers: other.headers });
      expect(res.statusCode).toBe(404);
    }
    expect((await t.app.inject({ method: 'DELETE', url: `/v2/api/webhooks/${epMine.id}`, headers: other.headers })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/v2/api/webhooks', headers: other.headers })).json().data.map((e: { id: string }) => e.id)).toEqual([
      epTheirs.id,
    ]);
    // Another workspace's API key on this workspace is refused before anything is read.
    const crossed = await t.app.inject({ url: '/v2/api/webhooks', headers: { ...other.headers, 'x-workspace-id': t.ws.id } });
    expect(crossed.statusCode).toBe(403);

    t.services.webhooks.start();
    const r = await startCall(t.ws, 'call-mine');
    await postWebhook(t.app, webhook('room_finished', r, t.clock.now));
    await startCall(other, 'call-theirs');
    await vi.waitFor(() => expect([types(mine).sort(), types(theirs)]).toEqual([['call.ended', 'call.started'], ['call.started']]), WAIT);
    const [theirStart] = theirs.received;
    if (!theirStart) throw new Error('nothing received');
    expect(new Webhook(epTheirs.secret).verify(theirStart.body, theirs.webhookHeaders(theirStart))).toMatchObject({
      data: { roomName: 'call-theirs' },
    });
    expect(() => new Webhook(epMine.secret).verify(theirStart.body, theirs.webhookHeaders(theirStart))).toThrow();
    expect(mine.received.every((q) => JSON.parse(q.body).data.roomName === 'call-mine')).toBe(true);
  });
});

describe('an endpoint that does not answer', () => {
  beforeEach(async () => {
    await t.close();
    t = await createTestApp({
      LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true',
      LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true',
      LIVECALLS_WEBHOOKS_TIMEOUT: '300ms',
    });
  });

  it('records a timeout as a failed attempt with no status', async () => {
    const r = await receiver(() => new Promise<number>(() => undefined));
    const ep = await register(t.ws, r.url, ['call.started']);
    t.services.webhooks.start();
    await startCall(t.ws, 'call-silent');
    await vi.waitFor(async () => expect((await deliveries(t.ws, ep.id))[0]?.attempts).toBe(1), WAIT);
    const [d] = await deliveries(t.ws, ep.id);
    expect(d).toMatchObject({ status: 'pending', lastResponseStatus: null, lastError: 'no response within 300 ms' });
    expect(r.received).toHaveLength(1);
  });
});

describe('non-public addresses (LIVECALLS_WEBHOOKS_ALLOW_PRIVATE off)', () => {
  beforeEach(async () => {
    await t.close();
    t = await createTestApp({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true', LIVECALLS_WEBHOOKS_MAX_ATTEMPTS: '3' });
  });

  it('refuses a 127.0.0.1 endpoint at registration', async () => {
    const r = await receiver();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v2/api/webhooks',
      headers: t.ws.headers,
      payload: { url: r.url, events: ALL_EVENTS },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      field: 'body.url',
      message: 'body.url: url must point at a public address; 127.0.0.1 is not one',
    });
  });

  it('refuses at connect time a name resolving to loopback: logged as such, never sent, failed after the last attempt', async () => {
    const r = await receiver();
    // Accepted at registration (a name may resolve anywhere later); judged on what it resolves to when sent.
    const ep = await register(t.ws, r.url.replace('127.0.0.1', 'localhost'), ['call.started']);
    t.services.webhooks.start();
    await startCall(t.ws, 'call-rebound');
    for (let attempt = 1; attempt <= 3; attempt++) {
      await vi.waitFor(async () => expect((await deliveries(t.ws, ep.id))[0]?.attempts).toBe(attempt), WAIT);
      t.clock.advance(24 * 3_600_000);
      t.services.webhooks.worker.kick();
    }
    const [d] = await deliveries(t.ws, ep.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 3, lastResponseStatus: null, nextAttemptAt: null });
    expect(d?.lastError).toMatch(NOT_PUBLIC_LOOPBACK);
    expect(d?.history.map((a) => a.responseStatus)).toEqual([null, null, null]);
    for (const a of d?.history ?? []) expect(a.error).toMatch(NOT_PUBLIC_LOOPBACK);
    expect(r.received).toHaveLength(0);
  });

  it('refuses at delivery a literal loopback endpoint that was registered while private addresses were allowed', async () => {
    const r = await receiver();
    const id = newEndpointId();
    const endpoint = { id, workspaceId: t.ws.id, url: r.url, events: ['call.started' as const], description: null };
    await t.services.stores.webhooks.createEndpoint({ ...endpoint, secret: newSigningSecret(), createdAt: t.clock.now });
    t.services.webhooks.start();
    await startCall(t.ws, 'call-literal');
    await vi.waitFor(async () => expect((await deliveries(t.ws, id))[0]?.attempts).toBe(1), WAIT);
    const [d] = await deliveries(t.ws, id);
    expect(d).toMatchObject({ status: 'pending', lastResponseStatus: null, lastError: 'endpoint address 127.0.0.1 is not public' });
    expect(r.received).toHaveLength(0);
  });
});

/**
 * The real store, with `enqueue` failing while `down` is set as the guarded PostgreSQL outbox does while
 * PostgreSQL is away (pg's "connection terminated", classified by the same test as production).
 */
function outage(store: WebhookStore) {
  const state = { down: true, failed: 0 };
  const enqueue = store.enqueue;
  store.enqueue = async (message, now) => {
    if (state.down) {
      state.failed += 1;
      throw unavailable('PostgreSQL', new Error('Connection terminated unexpectedly'), pgOutage);
    }
    return enqueue(message, now);
  };
  return state;
}

describe('outbox briefly unreachable', () => {
  it('on the embedded store the outbox is written in the commit: the change listener never enqueues', async () => {
    expect(t.services.stores.calls.outboxInCommit).toBe(true);
    const r = await receiver();
    const ep = await register(t.ws, r.url, ['call.started', 'call.ended']);
    t.services.webhooks.start();
    const store = outage(t.services.stores.webhooks);

    const lkRoom = await startCall(t.ws, 'call-in-commit');
    expect((await postWebhook(t.app, webhook('room_finished', lkRoom, t.clock.now))).statusCode).toBe(200);
    await vi.waitFor(() => expect(types(r).sort()).toEqual(['call.ended', 'call.started']), WAIT);
    expect(store.failed).toBe(0);
    const wh = new Webhook(ep.secret);
    const ended = r.received
      .map((q) => wh.verify(q.body, r.webhookHeaders(q)) as { type: string; data: Record<string, unknown> })
      .find((e) => e.type === 'call.ended');
    expect(ended?.data).toMatchObject({ roomName: 'call-in-commit', endReason: 'room_finished' });
  });
});

describe('outbox briefly unreachable, news kept in the relay', () => {
  // The path of a store that cannot write the outbox in its commits (Redis, or embedded calls with the outbox
  // in PostgreSQL): the embedded store, keeping its news in its relay.
  beforeEach(async () => {
    await t.close();
    t = await createTestApp(ENV, { relayWebhooks: true });
  });

  it('keeps the committed news while the outbox is away and delivers it, once, when the outbox is back', async () => {
    expect(t.services.stores.calls.outboxInCommit).toBe(false);
    const r = await receiver();
    const ep = await register(t.ws, r.url, ['call.started', 'call.ended']);
    t.services.webhooks.start();
    const store = outage(t.services.stores.webhooks);

    const lkRoom = await startCall(t.ws, 'call-outage');
    expect((await postWebhook(t.app, webhook('room_finished', lkRoom, t.clock.now))).statusCode).toBe(200);
    // The worker's polls keep trying while the outbox is away; the news stays in the relay.
    await vi.waitFor(() => expect(store.failed).toBeGreaterThanOrEqual(3), WAIT);
    expect(await t.services.stores.calls.relay?.take(10)).toHaveLength(2);
    expect(await deliveries(t.ws, ep.id)).toEqual([]);
    expect(r.received).toHaveLength(0);

    store.down = false;
    await vi.waitFor(() => expect(types(r).sort()).toEqual(['call.ended', 'call.started']), WAIT);
    expect(await t.services.stores.calls.relay?.take(10)).toEqual([]);
    const wh = new Webhook(ep.secret);
    const events = r.received.map((q) => wh.verify(q.body, r.webhookHeaders(q)) as { type: string; data: Record<string, unknown> });
    const ended = events.find((e) => e.type === 'call.ended')?.data;
    expect(ended).toMatchObject({ roomName: 'call-outage', endReason: 'room_finished' });
    await vi.waitFor(async () => expect((await deliveries(t.ws, ep.id)).map((d) => d.status)).toEqual(['delivered', 'delivered']), WAIT);
    await t.services.webhooks.stop();
    expect(r.received).toHaveLength(2);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).not.toMatch(/livecalls_change_listener_failures_total\{listener="webhooks"\} [1-9]/);
    expect(metrics).toMatch(/livecalls_webhook_relay_dropped_total 0/);
  });
});

describe('news the outbox keeps refusing', () => {
  beforeEach(async () => {
    await t.close();
    t = await createTestApp(ENV, { relayWebhooks: true });
  });

  it("a take from the relay leaves room for every waiting workspace's news, each in order", async () => {
    const other = await t.newWorkspace('other');
    for (let n = 1; n <= 6; n++) await startCall(t.ws, `call-busy-${n}`);
    await startCall(other, 'call-quiet');
    const taken = (await t.services.stores.calls.relay?.take(8)) ?? [];
    const roomsOf = (ws: string) =>
      taken.filter((e) => e.workspaceId === ws).map((e) => (JSON.parse(e.body) as { message: { payload: string } }).message.payload);
    expect(roomsOf(t.ws.id).map((p) => /call-busy-\d/.exec(p)?.[0])).toEqual(['call-busy-1', 'call-busy-2']);
    expect(roomsOf(other.id)).toHaveLength(1);
  });

  it("is retried in order for a while, holding up only its own workspace's news, then dropped and counted", async () => {
    const r = await receiver();
    await register(t.ws, r.url, ['call.started']);
    const other = await t.newWorkspace('other');
    await register(other, `${r.url}/other`, ['call.started']);
    const store = t.services.stores.webhooks;
    const enqueue = store.enqueue.bind(store);
    // What PostgreSQL answers to text it cannot store: not an outage, and retrying may not mend it.
    const refused = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    let refusals = 0;
    store.enqueue = async (message, now) => {
      if (message.payload.includes('call-poisoned')) {
        refusals += 1;
        throw refused;
      }
      return enqueue(message, now);
    };
    for (const name of ['call-poisoned', 'call-after-1', 'call-after-2']) await startCall(t.ws, name);
    await startCall(other, 'call-other');
    t.services.webhooks.start();
    // Kept at the head of its workspace's news, in order, while it keeps failing: nothing behind it jumps the
    // queue, and the other workspace's news goes out meanwhile.
    await vi.waitFor(() => expect(refusals).toBeGreaterThanOrEqual(3), WAIT);
    const rooms = () => r.received.map((q) => (JSON.parse(q.body) as { data: { roomName: string } }).data.roomName);
    expect(rooms()).toEqual(['call-other']);
    expect((await t.services.stores.calls.relay?.take(10))?.map((e) => e.workspaceId)).toEqual([t.ws.id, t.ws.id, t.ws.id]);
    expect((await t.services.metrics.webhookRelayDropped.get()).values[0]?.value ?? 0).toBe(0);

    t.clock.advance(RELAY_GIVE_UP_MS);
    await vi.waitFor(() => expect(r.received).toHaveLength(3), WAIT);
    await t.services.webhooks.stop();
    expect(rooms()).toEqual(['call-other', 'call-after-1', 'call-after-2']);
    expect((await t.services.metrics.webhookRelayDropped.get()).values[0]?.value).toBe(1);
    expect(await t.services.stores.calls.relay?.take(10)).toEqual([]);
  });
});
