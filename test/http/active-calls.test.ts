/**
 * The Active Calls API contract: exact field sets and types of every response, checked against the
 * reference (shared/reference/active-calls-api.md), fed through the real ingest paths.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { DETAIL_FIELDS, LIST_ITEM_FIELDS } from '../helpers/reference.ts';
import { participant, postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

/** A phone call: room_started, agent joins, SIP caller joins, two turns. */
async function phoneCall(name: string, startedAt: number): Promise<void> {
  const r = room({ name, workspaceId: t.ws.id, agentName: 'Customer Support Agent', createdAt: startedAt });
  expect((await postWebhook(t.app, webhook('room_started', r, startedAt))).statusCode).toBe(200);
  await postWebhook(
    t.app,
    webhook(
      'participant_joined',
      r,
      startedAt + 500,
      participant('agent-001', 'agent', startedAt + 500, { metadata: '{"voice":"alloy"}' }),
    ),
  );
  await postWebhook(
    t.app,
    webhook('participant_joined', r, startedAt + 1000, participant('sip_+14155551234', 'sip', startedAt + 1000, { phone: '+14155551234' })),
  );
  const res = await postAgentEvents(
    t.app,
    name,
    [
      turn('agent', 'Hello, how can I help you today?', startedAt + 2000),
      turn('customer', 'Thanks, this is great, I love the service!', startedAt + 3000),
    ],
    { headers: t.ws.headers },
  );
  expect(res.statusCode).toBe(202);
}

describe('GET /v2/api/active-calls', () => {
  it('returns exactly the documented fields and types', async () => {
    const start = t.clock.now - 145_000;
    await phoneCall('call-abc123', start);
    const res = await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['count', 'data', 'timestamp']);
    expect(body.count).toBe(1);
    expect(body.timestamp).toBe(new Date(t.clock.now).toISOString());
    const call = body.data[0];
    expect(Object.keys(call).sort()).toEqual(LIST_ITEM_FIELDS);
    expect(call.id).toMatch(/^[0-9a-f]{24}$/);
    expect(call).toMatchObject({
      roomName: 'call-abc123',
      customerPhone: '+14155551234',
      customerName: '',
      aiAgentName: 'Customer Support Agent',
      duration: 145,
      status: 'active',
      sentiment: 'positive',
      lastMessage: 'Thanks, this is great, I love the service!',
      transferRequested: false,
      type: 'phone',
    });
    expect(call.participants).toEqual([
      { identity: 'agent-001', isAgent: true, joinedAt: new Date(start + 500).toISOString() },
      { identity: 'sip_+14155551234', isAgent: false, joinedAt: new Date(start + 1000).toISOString() },
    ]);
    for (const p of call.participants) {
      expect(Object.keys(p).sort()).toEqual(['identity', 'isAgent', 'joinedAt']);
      expect(p.joinedAt).toMatch(ISO_MS);
    }
  });

  it('duration is whole seconds as of timestamp and ticks with the clock', async () => {
    await phoneCall('call-tick', t.clock.now - 10_400);
    const first = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(first.data[0].duration).toBe(10);
    t.clock.advance(1_700);
    const second = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(second.data[0].duration).toBe(12);
  });

  it('lists oldest call first, and a web call without a SIP participant is "web"', async () => {
    await phoneCall('call-b', t.clock.now - 5_000);
    const r = room({
      name: 'call-a',
      workspaceId: t.ws.id,
      agentName: 'Sales Agent',
      customerName: 'Ada',
      createdAt: t.clock.now - 60_000,
    });
    await postWebhook(t.app, webhook('room_started', r, t.clock.now - 60_000));
    await postWebhook(
      t.app,
      webhook('participant_joined', r, t.clock.now - 59_000, participant('web-user', 'standard', t.clock.now - 59_000)),
    );
    const body = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(body.data.map((c: { roomName: string }) => c.roomName)).toEqual(['call-a', 'call-b']);
    expect(body.data[0]).toMatchObject({ type: 'web', customerPhone: '', customerName: 'Ada', aiAgentName: 'Sales Agent' });
    expect(body.data[1].type).toBe('phone');
  });

  it('drops participants that left and removes finished calls', async () => {
    const start = t.clock.now - 30_000;
    await phoneCall('call-x', start);
    const r = room({ name: 'call-x', workspaceId: t.ws.id, createdAt: start });
    await postWebhook(
      t.app,
      webhook('participant_left', r, start + 20_000, participant('sip_+14155551234', 'sip', start + 1000, { phone: '+14155551234' })),
    );
    let body = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(body.data[0].participants.map((p: { identity: string }) => p.identity)).toEqual(['agent-001']);
    expect(body.data[0].type).toBe('phone');
    await postWebhook(t.app, webhook('room_finished', r, start + 25_000));
    body = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(body).toMatchObject({ data: [], count: 0 });
  });
});

describe('GET /v2/api/active-calls/{roomName}', () => {
  it('returns the documented fields, the transcript oldest first and participant metadata', async () => {
    const start = t.clock.now - 20_000;
    await phoneCall('call-d', start);
    await postAgentEvents(t.app, 'call-d', [{ id: 'ci', createdAt: start + 4000, type: 'customer_info', name: 'John Doe' }], {
      headers: t.ws.headers,
    });
    const res = await t.app.inject({ url: '/v2/api/active-calls/call-d', headers: t.ws.headers });
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(Object.keys(d).sort()).toEqual(DETAIL_FIELDS);
    expect(d).toMatchObject({ roomName: 'call-d', customerName: 'John Doe', customerPhone: '+14155551234', duration: 20 });
    expect(d.transcript).toEqual([
      { role: 'agent', content: 'Hello, how can I help you today?' },
      { role: 'customer', content: 'Thanks, this is great, I love the service!' },
    ]);
    expect(d.participants[0]).toEqual({
      identity: 'agent-001',
      isAgent: true,
      metadata: { voice: 'alloy' },
      joinedAt: new Date(start + 500).toISOString(),
    });
    expect(Object.keys(d.participants[1]).sort()).toEqual(['identity', 'isAgent', 'joinedAt', 'metadata']);
    expect(d.participants[1].metadata).toEqual({});
  });

  it('404s a room with no active call, with the error envelope', async () => {
    const res = await t.app.inject({ url: '/v2/api/active-calls/nope', headers: t.ws.headers });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String), requestId: res.headers['x-request-id'] } });
  });
});

describe('GET /v2/api/active-calls/{roomName}/insights', () => {
  it('returns sentiment, topics, summary and suggestions', async () => {
    const start = t.clock.now - 20_000;
    const r = room({ name: 'call-i', workspaceId: t.ws.id, createdAt: start });
    await postWebhook(t.app, webhook('room_started', r, start));
    await postAgentEvents(
      t.app,
      'call-i',
      [
        turn('agent', 'Hi, this is billing support.', start + 1000),
        turn('customer', 'I was charged twice on my last invoice and I am really annoyed.', start + 2000),
        turn('customer', 'This is terrible, I want a refund and I want to speak to a real person.', start + 3000),
      ],
      { headers: t.ws.headers },
    );
    const res = await t.app.inject({ url: '/v2/api/active-calls/call-i/insights', headers: t.ws.headers });
    expect(res.statusCode).toBe(200);
    const i = res.json();
    expect(Object.keys(i).sort()).toEqual([
      'generatedAt',
      'model',
      'modelSentiment',
      'sentiment',
      'sentimentScore',
      'sentimentSignals',
      'sentimentTrend',
      'source',
      'state',
      'suggestions',
      'summary',
      'topicDetails',
      'topics',
      'turnsBehind',
    ]);
    expect(i).toMatchObject({ source: 'offline', model: null, turnsBehind: 0, generatedAt: null, modelSentiment: null });
    expect(i.sentiment).toBe('negative');
    expect(i.sentimentScore).toBeLessThan(0);
    expect(i.sentimentTrend).toHaveLength(2);
    expect(i.sentimentSignals).toContain('escalation');
    expect(i.topics).toContain('billing');
    expect(i.summary.length).toBeGreaterThan(0);
    expect(i.suggestions.length).toBeGreaterThan(0);
    expect(i.suggestions.every((s: unknown) => typeof s === 'string')).toBe(true);
    const listed = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(listed.data[0].sentiment).toBe('negative');
  });
});

describe('agent events', () => {
  it('transfer_requested sets transferRequested; customer_info fills the customer', async () => {
    const start = t.clock.now - 5_000;
    const res = await postAgentEvents(
      t.app,
      'call-t',
      [
        turn('customer', 'Let me talk to a human', start + 1000),
        { id: 'tr', createdAt: start + 1500, type: 'transfer_requested', reason: 'caller asked for a human' },
        { id: 'ci', createdAt: start + 1600, type: 'customer_info', name: 'Grace', phone: '+442071838750' },
      ],
      { headers: t.ws.headers },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ applied: 3, duplicates: 0 });
    const c = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json().data[0];
    expect(c).toMatchObject({
      roomName: 'call-t',
      transferRequested: true,
      customerName: 'Grace',
      customerPhone: '+442071838750',
      type: 'web',
    });
  });

  it('replaying a batch applies nothing twice', async () => {
    const events = [turn('agent', 'one', t.clock.now - 2000, 'a1'), turn('customer', 'two', t.clock.now - 1000, 'a2')];
    expect((await postAgentEvents(t.app, 'call-r', events, { headers: t.ws.headers })).json()).toEqual({ applied: 2, duplicates: 0 });
    expect((await postAgentEvents(t.app, 'call-r', events, { headers: t.ws.headers })).json()).toEqual({ applied: 0, duplicates: 2 });
    const d = (await t.app.inject({ url: '/v2/api/active-calls/call-r', headers: t.ws.headers })).json();
    expect(d.transcript).toHaveLength(2);
  });

  it('accepts a LiveKit-style signature with x-workspace-id', async () => {
    const res = await postAgentEvents(t.app, 'call-s', [turn('agent', 'hello', t.clock.now)], { signedFor: t.ws.id });
    expect(res.statusCode).toBe(202);
    const list = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(list.data.map((c: { roomName: string }) => c.roomName)).toEqual(['call-s']);
  });
});
