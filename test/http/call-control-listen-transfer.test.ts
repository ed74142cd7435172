/** Listen-in tokens and transfer of the phone caller, through livecalls' API against the LiveKit stand-in. */
import { TokenVerifier } from 'livekit-server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { LK_KEY, LK_SECRET } from '../helpers/app.ts';
import { CALLER, post, record, startCall, wired, type Wired } from '../helpers/livekit-server-setup.ts';

let w: Wired | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('listen-token', () => {
  it('hands out a short-lived, hidden, subscribe-only token that does not keep the room open', async () => {
    w = await wired({ LIVECALLS_LISTEN_TOKEN_TTL: '2m' });
    await startCall(w, 'call-listen');
    const before = Date.now();
    const res = await post(w, 'call-listen', 'listen-token');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'roomName', 'token', 'url']);
    expect(body.url).toBe(w.lk.url.replace(/^http/, 'ws'));
    expect(body.roomName).toBe('call-listen');
    const claims = await new TokenVerifier(LK_KEY, LK_SECRET).verify(body.token);
    expect(claims.video).toStrictEqual({
      roomJoin: true,
      room: 'call-listen',
      canSubscribe: true,
      canPublish: false,
      canPublishData: false,
      canUpdateOwnMetadata: false,
      hidden: true,
      recorder: true,
    });
    expect(claims.sip).toBeUndefined();
    expect(claims.sub).toMatch(/^listener-/);
    expect((claims.exp ?? 0) * 1000).toBe(Date.parse(body.expiresAt));
    const ttl = Date.parse(body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(121_000);
  });

  it('409s an ended call, 404s another workspace, 401s without a key', async () => {
    w = await wired();
    await startCall(w, 'call-l2');
    const other = await w.t.newWorkspace('other');
    expect((await post(w, 'call-l2', 'listen-token', undefined, other.headers)).statusCode).toBe(404);
    expect((await post(w, 'call-l2', 'listen-token', undefined, {})).statusCode).toBe(401);
    expect((await post(w, 'no-such-room', 'listen-token')).statusCode).toBe(404);
    await post(w, 'call-l2', 'end-call');
    const res = await post(w, 'call-l2', 'listen-token');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('conflict');
  });
});

describe('transfer', () => {
  it('transfers the phone caller (SIP REFER), records the outcome, and is safe to repeat', async () => {
    w = await wired();
    await startCall(w, 'call-xfer');
    const res = await post(w, 'call-xfer', 'transfer', { to: 'tel:+14155550100' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toStrictEqual({
      success: true,
      message: 'Transfer accepted',
      roomName: 'call-xfer',
      to: 'tel:+14155550100',
      participantIdentity: CALLER,
    });
    expect(w.lk.transfers).toEqual([{ room: 'call-xfer', identity: CALLER, to: 'tel:+14155550100' }]);
    // LiveKit says the caller left (participant_left webhook).
    await w.lk.webhooksDelivered();
    const list = (await w.t.app.inject({ url: '/v2/api/active-calls', headers: w.t.ws.headers })).json();
    expect(list.data[0].participants.map((p: { identity: string }) => p.identity)).not.toContain(CALLER);
    expect(await record(w, 'call-xfer')).toMatchObject({
      type: 'phone',
      transfer: { to: 'tel:+14155550100', outcome: 'accepted', reason: null },
    });

    const again = await post(w, 'call-xfer', 'transfer', { to: 'tel:+14155550100' });
    expect(again.statusCode).toBe(200);
    expect(again.json().message).toBe('Transfer already accepted');
    expect(w.lk.transfers).toHaveLength(1);
  });

  it('accepts a sip: URI', async () => {
    w = await wired();
    await startCall(w, 'call-sip');
    const res = await post(w, 'call-sip', 'transfer', { to: 'sip:support@pbx.example.com' });
    expect(res.statusCode).toBe(200);
    expect(w.lk.transfers[0]?.to).toBe('sip:support@pbx.example.com');
  });

  it('400s a target that is not an E.164 tel: URI or a sip: URI, naming body.to', async () => {
    w = await wired();
    await startCall(w, 'call-bad');
    for (const to of ['+14155550100', 'tel:4155550100', 'tel:+0123', 'http://example.com', 'sip:', '', 42]) {
      const res = await post(w, 'call-bad', 'transfer', { to });
      expect(res.statusCode, String(to)).toBe(400);
      expect(res.json().error.field).toBe('body.to');
    }
    expect(w.lk.transfers).toEqual([]);
  });

  it('409s a web call and an ended call', async () => {
    w = await wired();
    await startCall(w, 'call-web', { web: true });
    const web = await post(w, 'call-web', 'transfer', { to: 'tel:+14155550100' });
    expect(web.statusCode).toBe(409);
    expect(web.json().error.code).toBe('conflict');
    await startCall(w, 'call-done');
    await post(w, 'call-done', 'end-call');
    expect((await post(w, 'call-done', 'transfer', { to: 'tel:+14155550100' })).statusCode).toBe(409);
    expect(w.lk.transfers).toEqual([]);
  });

  it("records LiveKit's reason when the transfer fails, and answers 502", async () => {
    w = await wired();
    await startCall(w, 'call-busy');
    w.lk.failWith = {
      status: 503,
      code: 'unavailable',
      msg: 'transfer failed',
      meta: { sip_status_code: '486', sip_status: 'Busy Here' },
      method: 'livekit.SIP/TransferSIPParticipant',
    };
    const res = await post(w, 'call-busy', 'transfer', { to: 'tel:+14155550100' });
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatchObject({ code: 'livekit_error', livekitCode: 'unavailable', reason: '486 Busy Here' });
    expect(await record(w, 'call-busy')).toMatchObject({
      transfer: { to: 'tel:+14155550100', outcome: 'failed', reason: '486 Busy Here' },
    });
  });

  it('answers 503 when LiveKit is unreachable and records nothing; 404s another workspace', async () => {
    w = await wired();
    await startCall(w, 'call-unreach');
    const other = await w.t.newWorkspace('other');
    expect((await post(w, 'call-unreach', 'transfer', { to: 'tel:+14155550100' }, other.headers)).statusCode).toBe(404);
    await w.lk.close();
    const res = await post(w, 'call-unreach', 'transfer', { to: 'tel:+14155550100' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('livekit_unavailable');
    expect(await record(w, 'call-unreach')).toMatchObject({ transfer: null });
  });
});
