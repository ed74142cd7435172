/** POST /v2/api/active-calls/{roomName}/end-call against a LiveKit stand-in. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, LK_KEY, LK_SECRET, type TestApp } from '../helpers/app.ts';
import { startLiveKitStandIn, type StandIn } from '../helpers/livekit-server.ts';
import { postWebhook, room, webhook } from '../helpers/livekit.ts';

let t: TestApp | undefined;
let lk: StandIn | undefined;
afterEach(async () => {
  await t?.close();
  await lk?.close();
  t = lk = undefined;
});

async function startCall(app: TestApp, name: string): Promise<void> {
  const r = room({ name, workspaceId: app.ws.id, createdAt: app.clock.now - 60_000 });
  await postWebhook(app.app, webhook('room_started', r, app.clock.now - 60_000));
}

const endCall = (app: TestApp, name: string, headers = app.ws.headers) =>
  app.app.inject({ method: 'POST', url: `/v2/api/active-calls/${name}/end-call`, headers });

const activeRooms = async (app: TestApp) =>
  (await app.app.inject({ url: '/v2/api/active-calls', headers: app.ws.headers })).json().data.map((c: { roomName: string }) => c.roomName);

describe('end-call', () => {
  it('deletes the LiveKit room, ends the call here, and is safe to repeat', async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    t = await createTestApp({ LIVEKIT_URL: lk.url });
    // LiveKit's room names this workspace, with the sid the webhooks carried: the end-call check passes.
    lk.addRoom({ name: 'call-end', sid: 'RM_call-end', metadata: { workspaceId: t.ws.id } });
    await startCall(t, 'call-end');
    const res = await endCall(t, 'call-end');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['endTime', 'message', 'roomName', 'success']);
    expect(body).toEqual({
      success: true,
      message: 'Call ended successfully',
      roomName: 'call-end',
      endTime: new Date(t.clock.now).toISOString(),
    });
    expect(lk.deleted).toEqual(['call-end']);
    expect(await activeRooms(t)).toEqual([]);

    t.clock.advance(5_000);
    const again = await endCall(t, 'call-end');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ success: true, message: 'Call already ended', endTime: body.endTime });
    expect(lk.deleted).toEqual(['call-end']);
  });

  it("stays ended_by_api when the deletion's room_finished is handled first and LiveKit answers slowly", async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    const app = (t = await createTestApp({ LIVEKIT_URL: lk.url }));
    // 0.9 s into a second: LiveKit stamps room_finished to the whole second, 900 ms before it happened.
    app.clock.advance(1_900 - (app.clock.now % 1_000));
    lk.addRoom({ name: 'call-slow', sid: 'RM_call-slow', metadata: { workspaceId: app.ws.id } });
    await startCall(app, 'call-slow');
    const callId = (await app.app.inject({ url: '/v2/api/active-calls/call-slow', headers: app.ws.headers })).json().id as string;
    expect(callId).toBeTruthy();
    const askedAt = app.clock.now;
    const control = await app.services.projects.controlFor(app.ws.id);
    const deleteRoom = control.deleteRoom.bind(control);
    control.deleteRoom = async (name) => {
      const outcome = await deleteRoom(name);
      // The room_finished the deletion causes reaches livecalls before the deletion's answer, which is slow.
      const finished = webhook('room_finished', room({ name, workspaceId: app.ws.id, createdAt: askedAt - 60_000 }), app.clock.now);
      expect((await postWebhook(app.app, finished)).statusCode).toBe(200);
      app.clock.advance(400);
      return outcome;
    };
    const res = await endCall(app, 'call-slow');
    expect(res.statusCode).toBe(200);
    expect(res.json().endTime).toBe(new Date(askedAt).toISOString());
    const details = await app.app.inject({ url: `/v2/api/calls/${callId}`, headers: app.ws.headers });
    expect(details.json()).toMatchObject({ status: 'ended', endReason: 'ended_by_api' });
  });

  it('ends the call here when LiveKit no longer knows the room, and says so', async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    t = await createTestApp({ LIVEKIT_URL: lk.url });
    await startCall(t, 'call-gone');
    const res = await endCall(t, 'call-gone');
    expect(res.statusCode).toBe(200);
    expect(res.json().message).toMatch(/already closed/);
    expect(await activeRooms(t)).toEqual([]);
  });

  it('answers 503 call_control_not_configured without LIVEKIT_URL, and changes nothing', async () => {
    t = await createTestApp();
    await startCall(t, 'call-nc');
    const res = await endCall(t, 'call-nc');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('call_control_not_configured');
    expect(res.json().error.message).toMatch(/call control is not configured/);
    expect(await activeRooms(t)).toEqual(['call-nc']);
  });

  it('answers 503 livekit_unavailable when LiveKit is unreachable, and changes nothing', async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    const url = lk.url;
    await lk.close();
    lk = undefined;
    t = await createTestApp({ LIVEKIT_URL: url });
    await startCall(t, 'call-down');
    const res = await endCall(t, 'call-down');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('livekit_unavailable');
    expect(await activeRooms(t)).toEqual(['call-down']);
  });

  it("answers 502 with LiveKit's code when LiveKit refuses, and changes nothing", async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    lk.failWith = { status: 500, code: 'internal', msg: 'boom' };
    t = await createTestApp({ LIVEKIT_URL: lk.url });
    await startCall(t, 'call-err');
    const res = await endCall(t, 'call-err');
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatchObject({ code: 'livekit_error', livekitCode: 'internal' });
    expect(await activeRooms(t)).toEqual(['call-err']);
  });

  it("404s another workspace's room and leaves it running", async () => {
    lk = await startLiveKitStandIn(LK_KEY, LK_SECRET);
    t = await createTestApp({ LIVEKIT_URL: lk.url });
    lk.addRoom({ name: 'call-a' });
    await startCall(t, 'call-a');
    const other = await t.newWorkspace('other');
    const res = await endCall(t, 'call-a', other.headers);
    expect(res.statusCode).toBe(404);
    expect(lk.deleted).toEqual([]);
    expect(await activeRooms(t)).toEqual(['call-a']);
  });
});
