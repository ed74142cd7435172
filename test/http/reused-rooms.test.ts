/**
 * A room name LiveKit reuses, through the HTTP API: agent events carrying the room's sid go to that room's
 * call, and event ids are the worker's own within a call ("turn-1" in every call), so no call loses turns to
 * the one before. A sid in an API-key request routes; it never proves ownership.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { participant, postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const NAME = 'front-desk';

async function startRoom(app: TestApp, sid: string, at: number) {
  const r = room({ name: NAME, sid, workspaceId: app.ws.id, agentName: 'Desk', createdAt: at });
  expect((await postWebhook(app.app, webhook('room_started', r, at))).statusCode).toBe(200);
  expect((await postWebhook(app.app, webhook('participant_joined', r, at + 500, participant('sip_1', 'sip', at + 500)))).statusCode).toBe(
    200,
  );
  return r;
}

const callOf = async (app: TestApp, sid: string) => {
  const calls = app.services.stores.calls;
  const ids = [await calls.getActive(app.ws.id, NAME), await calls.latestEnded(app.ws.id, NAME)];
  for (const c of ids) if (c?.roomSid === sid) return c;
  return undefined;
};

describe('a reused room name', () => {
  it('the next call of the name keeps its own "turn-1", with or without roomSid', async () => {
    t = await createTestApp();
    const t0 = t.clock.now;
    const first = await startRoom(t, 'RM_first', t0);
    const sent = await postAgentEvents(t.app, NAME, [turn('customer', 'first call hello', t0 + 1000, 'turn-1')], { headers: t.ws.headers });
    expect(sent.json()).toEqual({ applied: 1, duplicates: 0 });
    await postWebhook(t.app, webhook('room_finished', first, t0 + 30_000));

    t.clock.advance(60_000);
    await startRoom(t, 'RM_second', t0 + 60_000);
    const again = await postAgentEvents(
      t.app,
      NAME,
      [turn('customer', 'second call hello', t0 + 61_000, 'turn-1')],
      { headers: t.ws.headers },
      { roomSid: 'RM_second' },
    );
    expect(again.json()).toEqual({ applied: 1, duplicates: 0 });
    // A retry is still a duplicate, within its call.
    const retry = await postAgentEvents(
      t.app,
      NAME,
      [turn('customer', 'second call hello', t0 + 61_000, 'turn-1')],
      { headers: t.ws.headers },
      { roomSid: 'RM_second' },
    );
    expect(retry.json()).toEqual({ applied: 0, duplicates: 1 });

    const second = await callOf(t, 'RM_second');
    const details = (await t.app.inject({ url: `/v2/api/calls/${second?.id}`, headers: t.ws.headers })).json();
    expect(details.transcript.map((x: { content: string }) => x.content)).toEqual(['second call hello']);
  });

  it("a late turn of the previous room goes to that room's call, not the live one", async () => {
    t = await createTestApp();
    const t0 = t.clock.now;
    const first = await startRoom(t, 'RM_old', t0);
    await postWebhook(t.app, webhook('room_finished', first, t0 + 30_000));
    t.clock.advance(60_000);
    await startRoom(t, 'RM_new', t0 + 60_000);

    const late = await postAgentEvents(
      t.app,
      NAME,
      [turn('agent', 'goodbye from the old room', t0 + 29_000, 'turn-9')],
      { headers: t.ws.headers },
      { roomSid: 'RM_old' },
    );
    expect(late.statusCode).toBe(202);
    const live = await t.services.stores.calls.getActive(t.ws.id, NAME);
    expect(live?.roomSid).toBe('RM_new');
    expect(await t.services.stores.calls.transcript(t.ws.id, live?.id ?? '')).toEqual([]);
    const old = (await t.services.stores.calls.latestEnded(t.ws.id, NAME)) ?? undefined;
    expect(old?.roomSid).toBe('RM_old');
    expect((await t.services.stores.calls.transcript(t.ws.id, old?.id ?? '')).map((x) => x.content)).toEqual(['goodbye from the old room']);
  });

  it('a roomSid in an API-key request routes but proves nothing: the call stays unverified', async () => {
    t = await createTestApp();
    const sent = await postAgentEvents(
      t.app,
      'unheard-room',
      [turn('customer', 'hi', t.clock.now)],
      { headers: t.ws.headers },
      { roomSid: 'RM_claimed' },
    );
    expect(sent.statusCode).toBe(202);
    const call = await t.services.stores.calls.getActive(t.ws.id, 'unheard-room');
    expect(call).toMatchObject({ roomSid: '', claimedRoomSid: 'RM_claimed' });
    const details = (await t.app.inject({ url: `/v2/api/calls/${call?.id}`, headers: t.ws.headers })).json();
    expect(details.ownership).toBe('unverified');
    expect(await t.services.stores.calls.workspaceOfRoomSid('RM_claimed')).toBeUndefined();
  });

  it('a malformed roomSid is a 400 naming it', async () => {
    t = await createTestApp();
    const res = await postAgentEvents(
      t.app,
      NAME,
      [turn('customer', 'hi', t.clock.now)],
      { headers: t.ws.headers },
      { roomSid: 'not a sid' },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body.roomSid');
  });
});
