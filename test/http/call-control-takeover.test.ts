/** Human takeover: remove-agent mutes the agent's tracks on LiveKit; restore-agent gives the call back. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { AGENT, AGENT_TRACKS, CALLER, post, record, startCall, wired, type Wired } from '../helpers/livekit-server-setup.ts';
import { DETAIL_FIELDS } from '../helpers/reference.ts';

let w: Wired | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const agentTracks = (x: Wired, room: string) => x.lk.participant(room, AGENT)?.tracks.map((t) => ({ sid: t.sid, muted: t.muted }));

describe('remove-agent (human takeover)', () => {
  it('mutes every track the agent publishes, answers the reference shape, and records the takeover', async () => {
    w = await wired();
    await startCall(w, 'call-take');
    const res = await post(w, 'call-take', 'remove-agent', { participantIdentity: AGENT });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toStrictEqual({
      success: true,
      message: 'Agent removed from call',
      roomName: 'call-take',
      mutedTracks: AGENT_TRACKS,
    });
    expect(agentTracks(w, 'call-take')).toEqual(AGENT_TRACKS.map((sid) => ({ sid, muted: true })));
    // The caller's track is untouched.
    expect(w.lk.participant('call-take', CALLER)?.tracks[0]?.muted).toBe(false);
    expect(await record(w, 'call-take')).toMatchObject({ status: 'active', humanTakeover: true });
    // The reference's details shape is unchanged.
    const details = await w.t.app.inject({ url: '/v2/api/active-calls/call-take', headers: w.t.ws.headers });
    expect(Object.keys(details.json()).sort()).toEqual(DETAIL_FIELDS);
  });

  it('is safe to repeat, and restore-agent unmutes the same tracks', async () => {
    w = await wired();
    await startCall(w, 'call-again');
    await post(w, 'call-again', 'remove-agent', { participantIdentity: AGENT });
    w.t.clock.advance(1000);
    const again = await post(w, 'call-again', 'remove-agent', { participantIdentity: AGENT });
    expect(again.statusCode).toBe(200);
    expect(again.json().mutedTracks).toEqual(AGENT_TRACKS);
    expect(await record(w, 'call-again')).toMatchObject({ humanTakeover: true });

    w.t.clock.advance(1000);
    const back = await post(w, 'call-again', 'restore-agent', { participantIdentity: AGENT });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toStrictEqual({
      success: true,
      message: 'Agent restored to call',
      roomName: 'call-again',
      unmutedTracks: AGENT_TRACKS,
    });
    expect(agentTracks(w, 'call-again')).toEqual(AGENT_TRACKS.map((sid) => ({ sid, muted: false })));
    expect(await record(w, 'call-again')).toMatchObject({ humanTakeover: false });
  });

  it('400s naming body.participantIdentity when the identity is not the call agent, or is missing', async () => {
    w = await wired();
    await startCall(w, 'call-who');
    for (const participantIdentity of [CALLER, 'nobody-here']) {
      const res = await post(w, 'call-who', 'remove-agent', { participantIdentity });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_request', field: 'body.participantIdentity' });
    }
    const missing = await post(w, 'call-who', 'remove-agent', {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.field).toBe('body.participantIdentity');
    expect(w.lk.participant('call-who', CALLER)?.tracks[0]?.muted).toBe(false);
    expect(await record(w, 'call-who')).toMatchObject({ humanTakeover: false });
  });

  it('refuses without a valid key (401), with a key of another workspace (403), and 404s another workspace room', async () => {
    w = await wired();
    await startCall(w, 'call-auth');
    const other = await w.t.newWorkspace('other');
    const body = { participantIdentity: AGENT };
    expect((await post(w, 'call-auth', 'remove-agent', body, {})).statusCode).toBe(401);
    expect(
      (await post(w, 'call-auth', 'remove-agent', body, { 'x-api-key': 'lc_nope.nope', 'x-workspace-id': w.t.ws.id })).statusCode,
    ).toBe(401);
    expect((await post(w, 'call-auth', 'remove-agent', body, { 'x-api-key': other.apiKey, 'x-workspace-id': w.t.ws.id })).statusCode).toBe(
      403,
    );
    const cross = await post(w, 'call-auth', 'remove-agent', body, other.headers);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe('not_found');
    expect(agentTracks(w, 'call-auth')?.every((t) => !t.muted)).toBe(true);
  });

  it("answers 502 with LiveKit's code when LiveKit refuses, and records nothing", async () => {
    w = await wired();
    await startCall(w, 'call-refused');
    w.lk.failWith = { status: 500, code: 'internal', msg: 'boom', method: 'livekit.RoomService/MutePublishedTrack' };
    const res = await post(w, 'call-refused', 'remove-agent', { participantIdentity: AGENT });
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatchObject({ code: 'livekit_error', livekitCode: 'internal' });
    expect(await record(w, 'call-refused')).toMatchObject({ humanTakeover: false });
  });

  it('answers 503 livekit_unavailable when LiveKit is unreachable, and records nothing', async () => {
    w = await wired();
    await startCall(w, 'call-down');
    await w.lk.close();
    const res = await post(w, 'call-down', 'remove-agent', { participantIdentity: AGENT });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('livekit_unavailable');
    expect(await record(w, 'call-down')).toMatchObject({ humanTakeover: false });
  });

  it('409s an ended call', async () => {
    w = await wired();
    await startCall(w, 'call-over');
    expect((await post(w, 'call-over', 'end-call')).statusCode).toBe(200);
    await w.lk.webhooksDelivered();
    const res = await post(w, 'call-over', 'remove-agent', { participantIdentity: AGENT });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('conflict');
  });

  it('answers 503 call_control_not_configured without LIVEKIT_URL', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v2/api/active-calls/call-x/remove-agent',
        headers: { ...t.ws.headers, 'content-type': 'application/json' },
        payload: JSON.stringify({ participantIdentity: AGENT }),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('call_control_not_configured');
    } finally {
      await t.close();
    }
  });
});
