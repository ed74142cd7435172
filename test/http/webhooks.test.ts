/** LiveKit webhook verification and mapping: signatures, SIP vs web, duplicates, unknown workspaces. */
import { AccessToken } from 'livekit-server-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bodyDigest } from '../../src/ingest/signature.ts';
import { signBody } from '../../src/simulate/sign.ts';
import { createTestApp, LK_KEY, LK_SECRET, type TestApp } from '../helpers/app.ts';
import { participant, postWebhook, room, webhook } from '../helpers/livekit.ts';

// The signed room_started body from livekit-server-sdk's own WebhookReceiver test, and its known digest.
const KNOWN_BODY =
  '{"event":"room_started", "room":{"sid":"RM_TkVjUvAqgzKz", "name":"mytestroom", "emptyTimeout":300, "creationTime":"1628545903", "turnPassword":"ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N", "enabledCodecs":[{"mime":"audio/opus"}, {"mime":"video/VP8"}]}}';
const KNOWN_SHA = 'CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI=';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

function post(body: string, authorization?: string, contentType = 'application/webhook+json') {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (authorization !== undefined) headers.authorization = authorization;
  return t.app.inject({ method: 'POST', url: '/webhooks/livekit', headers, payload: body });
}

async function activeCount(): Promise<number> {
  return (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json().count;
}

function roomStartedBody(name = 'call-sig'): string {
  return webhook('room_started', room({ name, workspaceId: t.ws.id, createdAt: t.clock.now }), t.clock.now).toJsonString();
}

describe('signature', () => {
  it("computes LiveKit's digest for its own test fixture and accepts it when signed", async () => {
    expect(bodyDigest(KNOWN_BODY)).toBe(KNOWN_SHA);
    const token = new AccessToken(LK_KEY, LK_SECRET);
    token.sha256 = KNOWN_SHA;
    const res = await post(KNOWN_BODY, await token.toJwt());
    // Signed correctly, but its room names no workspace: acknowledged and ignored.
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ignored', reason: 'unknown_workspace' });
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/livecalls_webhooks_ignored_total\{reason="unknown_workspace"\} 1/);
  });

  it('accepts a valid signature and starts the call', async () => {
    const body = roomStartedBody();
    const res = await post(body, await signBody(body, LK_KEY, LK_SECRET));
    expect(res.statusCode).toBe(200);
    expect(await activeCount()).toBe(1);
  });

  it('refuses a missing signature with 401 and changes nothing', async () => {
    const res = await post(roomStartedBody());
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
    expect(await activeCount()).toBe(0);
  });

  it('refuses a tampered body', async () => {
    const body = roomStartedBody();
    const auth = await signBody(body, LK_KEY, LK_SECRET);
    const res = await post(body.replace('call-sig', 'call-evil'), auth);
    expect(res.statusCode).toBe(401);
    expect(await activeCount()).toBe(0);
  });

  it('refuses a wrong secret and an unknown key', async () => {
    const body = roomStartedBody();
    expect((await post(body, await signBody(body, LK_KEY, 'another-secret-0123456789abcdefghijkl'))).statusCode).toBe(401);
    expect((await post(body, await signBody(body, 'other-key', LK_SECRET))).statusCode).toBe(401);
    expect(await activeCount()).toBe(0);
  });

  it('refuses an expired token (LiveKit signs for 5 minutes)', async () => {
    const body = roomStartedBody();
    // Mint the token as LiveKit would have 6 minutes ago.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 6 * 60_000);
    let jwt: string;
    try {
      jwt = await signBody(body, LK_KEY, LK_SECRET, '5m');
    } finally {
      vi.useRealTimers();
    }
    expect((await post(body, jwt)).statusCode).toBe(401);
    expect(await activeCount()).toBe(0);
  });

  it('answers 503 when no LiveKit key pair is configured', async () => {
    const bare = await createTestApp({ LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '' });
    try {
      const body = roomStartedBody();
      const res = await bare.app.inject({
        method: 'POST',
        url: '/webhooks/livekit',
        headers: { 'content-type': 'application/webhook+json', authorization: await signBody(body, LK_KEY, LK_SECRET) },
        payload: body,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('webhooks_not_configured');
    } finally {
      await bare.close();
    }
  });

  it('a signed body that is not JSON is a 400, not a crash', async () => {
    const body = '{"event": "room_started", ';
    const res = await post(body, await signBody(body, LK_KEY, LK_SECRET));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_json');
  });
});

describe('mapping', () => {
  const start = () => t.clock.now - 10_000;

  it('a duplicate delivery of the same event id is applied once', async () => {
    const r = room({ name: 'call-dup', workspaceId: t.ws.id, createdAt: start() });
    const join = webhook('participant_joined', r, start() + 1000, participant('u1', 'standard', start() + 1000), 'EV_same');
    expect((await postWebhook(t.app, join)).json()).toMatchObject({ status: 'applied' });
    expect((await postWebhook(t.app, join)).json()).toMatchObject({ status: 'duplicate' });
    const m = (await t.app.inject({ url: '/metrics' })).body;
    expect(m).toMatch(/livecalls_events_total\{source="livekit",result="duplicate"\} 1/);
  });

  it('an event before room_started still creates the call, with the room creation time as start', async () => {
    const r = room({ name: 'call-early', workspaceId: t.ws.id, agentName: 'Early Agent', createdAt: start() });
    await postWebhook(t.app, webhook('participant_joined', r, start() + 2000, participant('agent-9', 'agent', start() + 2000)));
    let body = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(body.data[0]).toMatchObject({ roomName: 'call-early', aiAgentName: 'Early Agent', duration: 10 });
    await postWebhook(t.app, webhook('room_started', r, start()));
    body = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
    expect(body.count).toBe(1);
  });

  it('nothing resurrects a finished room; a new room with the same name is a new call', async () => {
    const r = room({ name: 'call-fin', workspaceId: t.ws.id, createdAt: start() });
    await postWebhook(t.app, webhook('room_started', r, start()));
    await postWebhook(t.app, webhook('room_finished', r, start() + 5000));
    await postWebhook(t.app, webhook('participant_joined', r, start() + 1000, participant('late', 'standard', start() + 1000)));
    await postWebhook(t.app, webhook('room_started', r, start()));
    expect(await activeCount()).toBe(0);
    const again = room({ name: 'call-fin', sid: 'RM_second', workspaceId: t.ws.id, createdAt: start() + 8000 });
    await postWebhook(t.app, webhook('room_started', again, start() + 8000));
    expect(await activeCount()).toBe(1);
  });

  it('SIP participant makes a phone call with the caller number; the agent comes from kind AGENT', async () => {
    const r = room({ name: 'call-sip', workspaceId: t.ws.id, createdAt: start() });
    await postWebhook(
      t.app,
      webhook('participant_joined', r, start(), participant('agent-x', 'agent', start(), { agentName: 'Attr Agent' })),
    );
    await postWebhook(
      t.app,
      webhook('participant_joined', r, start() + 1, participant('sip_+15550001111', 'sip', start() + 1, { phone: '+15550001111' })),
    );
    const c = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json().data[0];
    expect(c).toMatchObject({ type: 'phone', customerPhone: '+15550001111', aiAgentName: 'Attr Agent' });
    expect(c.participants).toEqual([
      expect.objectContaining({ identity: 'agent-x', isAgent: true }),
      expect.objectContaining({ identity: 'sip_+15550001111', isAgent: false }),
    ]);
  });

  it('left-without-join (participant_connection_aborted) is accepted', async () => {
    const r = room({ name: 'call-abort', workspaceId: t.ws.id, createdAt: start() });
    const res = await postWebhook(t.app, webhook('participant_connection_aborted', r, start(), participant('ghost', 'standard', start())));
    expect(res.statusCode).toBe(200);
    const c = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json().data[0];
    expect(c.participants).toEqual([]);
  });

  it('events LiveKit sends that livecalls does not track are acknowledged', async () => {
    const r = room({ name: 'call-track', workspaceId: t.ws.id, createdAt: start() });
    const res = await postWebhook(t.app, webhook('track_published', r, start(), participant('u', 'standard', start())));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ignored', reason: 'unsupported_event' });
  });

  it('a room whose metadata is not JSON is ignored, not an error', async () => {
    const r = room({ name: 'call-meta', metadata: 'not json', createdAt: start() });
    const res = await postWebhook(t.app, webhook('room_started', r, start()));
    expect(res.statusCode).toBe(200);
    expect(res.json().reason).toBe('unknown_workspace');
  });
});
