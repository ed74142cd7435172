/**
 * The live stream over real HTTP (SSE needs a real socket): snapshot, change frames from the real ingest
 * path, stream tokens, resume, isolation, slow clients, heartbeats, WebSocket, shutdown.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, turn } from '../helpers/livekit.ts';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse.ts';

interface Item {
  id: string;
  roomName: string;
  status?: string;
  sentiment: string;
  lastMessage: string;
  transferRequested: boolean;
  duration: number;
}

let t: TestApp;
let base: string;
const open: SseClient[] = [];

async function sse(path: string, headers: Record<string, string> = t.ws.headers): Promise<SseClient> {
  const c = await openSse(`${base}${path}`, headers);
  open.push(c);
  return c;
}

async function say(roomName: string, content: string, role: 'agent' | 'customer' = 'customer', headers = t.ws.headers) {
  const res = await postAgentEvents(t.app, roomName, [turn(role, content, t.clock.now)], { headers });
  expect(res.statusCode).toBe(202);
}

const isEvent = (event: string, room?: string) => (f: SseFrame) =>
  f.event === event && (room === undefined || (JSON.parse(f.data) as { call: Item }).call.roomName === room);

async function setup(env: Record<string, string> = {}) {
  t = await createTestApp(env);
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
}

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await t.close();
});

describe('SSE stream', () => {
  beforeEach(() => setup());

  it('starts with a snapshot equal to the list, then frames every change as it is committed', async () => {
    await say('room-a', 'Hello there');
    const list = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json<{ data: Item[]; count: number }>();
    const client = await sse('/v2/api/active-calls/stream');
    expect(client.status).toBe(200);
    const snapshot = await client.next((f) => f.event === 'snapshot');
    expect(JSON.parse(snapshot.data)).toEqual(list);
    expect(snapshot.id).toBeTruthy();

    await say('room-b', 'Hi, I need help');
    const started = client.json<{ call: Item }>(await client.next(isEvent('call.started', 'room-b')));
    expect(started.call.lastMessage).toBe('Hi, I need help');

    await say('room-b', 'This is terrible, I hate this awful service');
    const updated = client.json<{
      call: Item;
      sentimentScore: number;
      sentimentTrend: number[];
      changes: string[];
      newTurns: { role: string; content: string }[];
    }>(await client.next(isEvent('call.updated', 'room-b')));
    expect(updated.changes).toEqual(expect.arrayContaining(['transcript', 'sentiment']));
    expect(updated.newTurns).toEqual([
      expect.objectContaining({ role: 'customer', content: 'This is terrible, I hate this awful service' }),
    ]);
    expect(updated.call.sentiment).toBe('negative');
    // The score and the customer's per-turn trend travel beside the item, which keeps the list's shape.
    expect(updated.sentimentScore).toBeLessThan(0);
    expect(updated.sentimentTrend).toHaveLength(2);
    expect(updated.call).not.toHaveProperty('sentimentScore');

    const from = client.frames.length;
    const res = await postAgentEvents(
      t.app,
      'room-b',
      [{ id: 'tr1', createdAt: t.clock.now, type: 'transfer_requested', reason: 'wants a human' }],
      {
        headers: t.ws.headers,
      },
    );
    expect(res.statusCode).toBe(202);
    const transfer = client.json<{ call: Item; changes: string[] }>(await client.next(isEvent('call.updated', 'room-b'), 3_000, from));
    expect(transfer.changes).toContain('transfer');
    expect(transfer.call.transferRequested).toBe(true);

    // What end-call and the stale sweeper do once LiveKit has closed the room.
    await t.services.calls.endHere(t.ws.id, await t.services.calls.activeCall(t.ws.id, 'room-a'), 'ended_by_api');
    const ended = client.json<{ call: Item; endedAt: string; endReason: string }>(await client.next(isEvent('call.ended', 'room-a')));
    expect(ended.endedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(ended.endReason).toBe('ended_by_api');
    expect(ended.call.status).toBe('ended');
    // Frame ids only grow.
    const ids = client.frames.map((f) => f.id).filter((id): id is string => id !== undefined);
    for (let i = 1; i < ids.length; i++) expect(t.services.stores.feed.compare(ids[i - 1] ?? '', ids[i] ?? '')).toBeLessThan(0);
  });

  it('a duplicate delivery changes nothing and sends nothing', async () => {
    const client = await sse('/v2/api/active-calls/stream');
    await client.next((f) => f.event === 'snapshot');
    const event = turn('customer', 'Once only', t.clock.now);
    await postAgentEvents(t.app, 'room-d', [event], { headers: t.ws.headers });
    await client.next(isEvent('call.started', 'room-d'));
    const before = client.frames.length;
    await postAgentEvents(t.app, 'room-d', [event], { headers: t.ws.headers });
    await say('room-d', 'marker');
    await client.next(isEvent('call.updated', 'room-d'), 3_000, before);
    expect(client.frames.slice(before).map((f) => f.event)).toEqual(['call.updated']);
  });

  it('never shows one workspace another workspace’s calls', async () => {
    const other = await t.newWorkspace('other');
    const mine = await sse('/v2/api/active-calls/stream');
    const theirs = await sse('/v2/api/active-calls/stream', other.headers);
    await mine.next((f) => f.event === 'snapshot');
    await theirs.next((f) => f.event === 'snapshot');
    await say('secret-room', 'private', 'customer', other.headers);
    await say('my-room', 'mine');
    await theirs.next(isEvent('call.started', 'secret-room'));
    await mine.next(isEvent('call.started', 'my-room'));
    expect(mine.frames.some((f) => f.data.includes('secret-room'))).toBe(false);
    expect(theirs.frames.some((f) => f.data.includes('my-room'))).toBe(false);
  });

  it('refuses missing, wrong and cross-workspace credentials, and unknown parameters', async () => {
    const other = await t.newWorkspace('other');
    expect((await sse('/v2/api/active-calls/stream', {})).status).toBe(401);
    expect(
      (
        await sse('/v2/api/active-calls/stream', {
          ...t.ws.headers,
          'x-api-key': `${t.ws.apiKey.slice(0, -1)}${t.ws.apiKey.endsWith('0') ? '1' : '0'}`,
        })
      ).status,
    ).toBe(401);
    expect((await sse('/v2/api/active-calls/stream', { ...t.ws.headers, 'x-workspace-id': other.id })).status).toBe(403);
    const bad = await sse('/v2/api/active-calls/stream?since=1');
    expect(bad.status).toBe(400);
    expect(bad.frames[0]?.data).toContain('since');
  });

  it('resumes after Last-Event-ID with exactly what was missed, and snapshots when it cannot', async () => {
    const first = await sse('/v2/api/active-calls/stream');
    await first.next((f) => f.event === 'snapshot');
    await say('room-r', 'one');
    const seen = await first.next(isEvent('call.started', 'room-r'));
    first.close();

    await say('room-r', 'two');
    await say('room-s', 'three');
    const resumed = await sse('/v2/api/active-calls/stream', { ...t.ws.headers, 'last-event-id': seen.id ?? '' });
    await resumed.next(isEvent('call.started', 'room-s'));
    expect(resumed.frames.map((f) => f.event)).toEqual(['call.updated', 'call.started']);
    expect(resumed.json<{ call: Item }>(resumed.frames[0] as SseFrame).call.lastMessage).toBe('two');

    // The same through the query parameter (what a page that fetched a new token sends).
    const viaQuery = await sse(`/v2/api/active-calls/stream?lastEventId=${encodeURIComponent(seen.id ?? '')}`);
    await viaQuery.next(isEvent('call.started', 'room-s'));
    expect(viaQuery.frames.some((f) => f.event === 'snapshot')).toBe(false);

    for (const id of ['nonsense', '00000000-99999999', 'a'.repeat(80)]) {
      const fresh = await sse('/v2/api/active-calls/stream', { ...t.ws.headers, 'last-event-id': id });
      const snap = await fresh.next(() => true);
      expect(snap.event).toBe('snapshot');
      expect(fresh.json<{ count: number }>(snap).count).toBe(2);
    }
  });
});

describe('SSE stream limits', () => {
  it('answers with a snapshot when more was missed than the replay window holds', async () => {
    await setup({ LIVECALLS_STREAM_REPLAY: '10' });
    const first = await sse('/v2/api/active-calls/stream');
    await first.next((f) => f.event === 'snapshot');
    await say('room-w', 'start');
    const seen = await first.next(isEvent('call.started', 'room-w'));
    first.close();
    for (let i = 0; i < 15; i++) await say('room-w', `turn ${i}`);
    const resumed = await sse('/v2/api/active-calls/stream', { ...t.ws.headers, 'last-event-id': seen.id ?? '' });
    const firstFrame = await resumed.next(() => true);
    expect(firstFrame.event).toBe('snapshot');
    expect(resumed.json<{ data: Item[] }>(firstFrame).data[0]?.lastMessage).toBe('turn 14');
  });

  it('caps the open streams of one workspace; other workspaces are not affected', async () => {
    await setup({ LIVECALLS_STREAM_MAX_CLIENTS: '2' });
    const first = await sse('/v2/api/active-calls/stream');
    const second = await sse('/v2/api/active-calls/stream');
    for (const c of [first, second]) await c.next((f) => f.event === 'snapshot');
    const third = await sse('/v2/api/active-calls/stream');
    expect(third.status).toBe(429);
    expect(third.frames[0]?.data).toContain('rate_limit_exceeded');
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v2/api/active-calls/ws`, { headers: t.ws.headers });
    const wsStatus = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(wsStatus).toBe(429);
    const other = await t.newWorkspace('other');
    expect((await sse('/v2/api/active-calls/stream', other.headers)).status).toBe(200);
    first.close();
    await first.ended;
    for (let i = 0; i < 50 && t.services.hub.clientsOf(t.ws.id) > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await sse('/v2/api/active-calls/stream')).status).toBe(200);
  });

  it('sends heartbeats on an idle stream', async () => {
    await setup({ LIVECALLS_STREAM_HEARTBEAT: '100ms' });
    const client = await sse('/v2/api/active-calls/stream');
    await client.next((f) => f.event === 'snapshot');
    await new Promise((r) => setTimeout(r, 350));
    expect(client.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
  });

  it('tells a client that stopped reading that it fell behind and drops it; others and ingestion carry on', async () => {
    await setup({ LIVECALLS_STREAM_BUFFER: String(64 * 1024) });
    const slow = await sse('/v2/api/active-calls/stream');
    const healthy = await sse('/v2/api/active-calls/stream');
    await slow.next((f) => f.event === 'snapshot');
    await healthy.next((f) => f.event === 'snapshot');
    slow.pause();
    const overflows = () => t.services.metrics.streamOverflows.get().then((m) => m.values[0]?.value ?? 0);
    const big = JSON.stringify({ call: { roomName: 'flood', padding: 'x'.repeat(8 * 1024) } });
    let published = 0;
    while ((await overflows()) === 0 && published < 5_000) {
      await t.services.stores.feed.publish(t.ws.id, [{ event: 'call.updated', data: big }]);
      published++;
      // Client and server share this process: give the healthy client its turn to read.
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await overflows()).toBe(1);
    // Ingestion is not held up by the slow client, and the healthy one gets everything.
    await say('after-flood', 'still here');
    await healthy.next(isEvent('call.started', 'after-flood'), 5_000);
    expect(healthy.frames.filter((f) => f.event === 'call.updated').length).toBe(published);
    expect(t.services.hub.size).toBe(1);
    slow.resume();
    await slow.ended;
    expect(slow.frames.at(-1)?.event).toBe('overflow');
  });
});

describe('stream tokens', () => {
  beforeEach(() => setup());

  async function token(headers = t.ws.headers, body: unknown = {}) {
    return t.app.inject({ method: 'POST', url: '/v2/api/stream-tokens', headers, payload: body as object });
  }

  it('open the workspace’s stream without headers, until they expire or the key is revoked', async () => {
    const res = await token();
    expect(res.statusCode).toBe(201);
    const body = res.json<{ token: string; workspaceId: string; expiresAt: string }>();
    expect(body.workspaceId).toBe(t.ws.id);
    expect(Date.parse(body.expiresAt) - t.clock.now).toBe(300_000);

    const client = await sse(`/v2/api/active-calls/stream?token=${body.token}`, {});
    expect(client.status).toBe(200);
    await client.next((f) => f.event === 'snapshot');

    // Tampered, expired, revoked: 401.
    const tampered = `${body.token.slice(0, -2)}${body.token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await sse(`/v2/api/active-calls/stream?token=${tampered}`, {})).status).toBe(401);
    t.clock.advance(300_001);
    expect((await sse(`/v2/api/active-calls/stream?token=${body.token}`, {})).status).toBe(401);
    const fresh = (await token()).json<{ token: string }>().token;
    expect((await sse(`/v2/api/active-calls/stream?token=${fresh}`, {})).status).toBe(200);
    await t.services.stores.tenants.revokeKey(t.ws.keyId, t.clock.now);
    expect((await sse(`/v2/api/active-calls/stream?token=${fresh}`, {})).status).toBe(401);
  });

  it('a stream whose key is revoked is told and closed at the next check', async () => {
    const tok = (await token()).json<{ token: string }>().token;
    const viaToken = await sse(`/v2/api/active-calls/stream?token=${tok}`, {});
    const viaHeaders = await sse('/v2/api/active-calls/stream');
    const other = await t.newWorkspace('other');
    const unrelated = await sse('/v2/api/active-calls/stream', other.headers);
    for (const c of [viaToken, viaHeaders, unrelated]) await c.next((f) => f.event === 'snapshot');
    await t.services.hub.revalidate();
    expect(t.services.hub.size).toBe(3);
    await t.services.stores.tenants.revokeKey(t.ws.keyId, t.clock.now);
    await t.services.hub.revalidate();
    for (const c of [viaToken, viaHeaders]) {
      await c.ended;
      expect(c.frames.at(-1)?.event).toBe('revoked');
    }
    expect(t.services.hub.size).toBe(1);
  });

  it('are bound to their workspace and validate their input', async () => {
    const other = await t.newWorkspace('other');
    const theirs = (await token(other.headers)).json<{ token: string }>().token;
    const client = await sse(`/v2/api/active-calls/stream?token=${theirs}`, {});
    await client.next((f) => f.event === 'snapshot');
    await say('mine-only', 'hello');
    await say('theirs', 'hello', 'customer', other.headers);
    await client.next(isEvent('call.started', 'theirs'));
    expect(client.frames.some((f) => f.data.includes('mine-only'))).toBe(false);

    expect((await token({})).statusCode).toBe(401);
    expect((await token({ ...t.ws.headers, 'x-workspace-id': other.id })).statusCode).toBe(403);
    const tooLong = await token(t.ws.headers, { ttlSeconds: 86_400 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json<{ error: { field: string } }>().error.field).toBe('body.ttlSeconds');
    expect((await token(t.ws.headers, { scope: 'all' })).statusCode).toBe(400);
    const short = (await token(t.ws.headers, { ttlSeconds: 60 })).json<{ expiresAt: string }>();
    expect(Date.parse(short.expiresAt) - t.clock.now).toBe(60_000);
  });
});

describe('WebSocket stream', () => {
  beforeEach(() => setup());

  function connect(path: string, headers: Record<string, string> = t.ws.headers) {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, { headers });
    const messages: { event: string; id: string | null; data: { call?: Item } }[] = [];
    ws.on('message', (m: Buffer) => messages.push(JSON.parse(m.toString()) as (typeof messages)[number]));
    return { ws, messages };
  }

  async function until<T>(fn: () => T | undefined, timeoutMs = 3_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('sends the same frames as JSON messages, and resumes with ?lastEventId', async () => {
    await say('room-ws', 'before');
    const { ws, messages } = connect('/v2/api/active-calls/ws');
    const snap = await until(() => messages.find((m) => m.event === 'snapshot'));
    expect((snap.data as unknown as { count: number }).count).toBe(1);
    await say('room-ws', 'after');
    const upd = await until(() => messages.find((m) => m.event === 'call.updated'));
    expect(upd.data.call?.lastMessage).toBe('after');
    ws.close();

    await say('room-ws2', 'missed');
    const again = connect(`/v2/api/active-calls/ws?lastEventId=${upd.id ?? ''}`);
    const missed = await until(() => again.messages.find((m) => m.event === 'call.started'));
    expect(missed.data.call?.roomName).toBe('room-ws2');
    expect(again.messages.some((m) => m.event === 'snapshot')).toBe(false);
    again.ws.close();
  });

  it('refuses the upgrade without valid credentials', async () => {
    const { ws } = connect('/v2/api/active-calls/ws', {});
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });
});

describe('shutdown', () => {
  it('closes open streams so the server stops promptly', async () => {
    await setup();
    const client = await sse('/v2/api/active-calls/stream');
    await client.next((f) => f.event === 'snapshot');
    await t.app.close();
    await client.ended;
    expect(t.services.hub.size).toBe(0);
  });
});
