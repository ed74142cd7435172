/**
 * The hostile inputs that once crashed the embedded server or poisoned the archive, one by one (the fuzz test
 * explores around them): times past the range of `Date`, metadata nested thousands deep, NUL and lone
 * surrogates. A signed webhook is accepted with the bad field dropped or cleaned; what an API client sends is
 * refused with the field named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/simulate/sign.ts';
import { createTestApp, LK_KEY, LK_SECRET, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, rid, turn } from '../helpers/livekit.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ LIVECALLS_RATE_LIMIT: '0', LIVECALLS_BODY_LIMIT: '262144' });
});
afterAll(async () => {
  await t.close();
});

/** A participant_joined webhook as LiveKit's JSON, with `patch` applied to the participant / room / event. */
function joined(roomName: string, patch: { participant?: object; room?: object; event?: object } = {}): string {
  const seconds = String(Math.floor(t.clock.now / 1000));
  return JSON.stringify({
    event: 'participant_joined',
    id: rid('EV'),
    createdAt: seconds,
    room: {
      sid: `RM_${roomName}`,
      name: roomName,
      metadata: JSON.stringify({ workspaceId: t.ws.id }),
      creationTime: seconds,
      ...patch.room,
    },
    participant: {
      sid: rid('PA'),
      identity: 'caller',
      name: 'Caller',
      joinedAt: seconds,
      joinedAtMs: String(t.clock.now),
      ...patch.participant,
    },
    ...patch.event,
  });
}

async function post(body: string) {
  return t.app.inject({
    method: 'POST',
    url: '/webhooks/livekit',
    headers: { 'content-type': 'application/webhook+json', authorization: await signBody(body, LK_KEY, LK_SECRET) },
    payload: body,
  });
}

const list = () => t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers });
const details = (room: string) => t.app.inject({ url: `/v2/api/active-calls/${room}`, headers: t.ws.headers });

describe('times from outside', () => {
  it('a joinedAt past the range of Date is dropped: the join takes the event time, and everything still answers', async () => {
    const room = rid('far');
    const res = await post(joined(room, { participant: { joinedAt: '9223372036854775807', joinedAtMs: '9223372036854775807' } }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'applied' });
    expect((await list()).statusCode).toBe(200);
    const d = await details(room);
    expect(d.statusCode).toBe(200);
    expect(d.json().participants[0].joinedAt).toBe(new Date(Math.floor(t.clock.now / 1000) * 1000).toISOString());
  });

  it('event and room times out of range count as unset', async () => {
    const room = rid('times');
    const res = await post(
      joined(room, { event: { createdAt: '-5' }, room: { creationTime: '8640000000000001', creationTimeMs: '9223372036854775807' } }),
    );
    expect(res.statusCode).toBe(200);
    const item = (await list()).json().data.find((c: { roomName: string }) => c.roomName === room);
    expect(item.duration).toBe(0);
  });

  it('a call whose source clock runs decades ahead still goes stale by the server clock', async () => {
    const room = rid('ahead');
    const res = await postAgentEvents(t.app, room, [turn('agent', 'hi', Date.UTC(2099, 0, 1))], { headers: t.ws.headers });
    expect(res.statusCode).toBe(202);
    t.clock.advance(24 * 3_600_000);
    await t.services.sweeper.sweep();
    expect((await details(room)).statusCode).toBe(404);
  });

  it('an agent createdAt past 2100 is refused, naming the field', async () => {
    const res = await postAgentEvents(t.app, rid('late'), [turn('agent', 'hi', 8.64e15)], { headers: t.ws.headers });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body.events.0.createdAt');
  });
});

describe('metadata and text from outside', () => {
  it('metadata nested 5,000 deep does not break the details', async () => {
    const room = rid('deep');
    const metadata = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    expect((await post(joined(room, { participant: { metadata } }))).statusCode).toBe(200);
    const d = await details(room);
    expect(d.statusCode).toBe(200);
    expect(d.json().participants[0].metadata).toEqual({ value: metadata });
  });

  it('NUL in a webhook is cleaned; a room name with NUL, and a lone surrogate (not UTF-8), are a 400', async () => {
    const room = rid('nul');
    const res = await post(joined(room, { participant: { identity: 'cal\u0000ler', name: 'Cal\u0000ler' } }));
    expect(res.statusCode, res.body).toBe(200);
    const d = await details(room);
    expect(d.json().participants[0].identity).toBe('caller');
    const bad = await post(joined('bad\u0000room'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('room.name');
    // LiveKit's own decoding refuses it: its JSON is UTF-8, which cannot carry one.
    expect((await post(joined(rid('surrogate'), { participant: { name: 'x\ud800y' } }))).statusCode).toBe(400);
  });

  it('NUL or a lone surrogate in an agent turn is refused, naming the field', async () => {
    for (const content of ['a\u0000b', 'x\udc00']) {
      const res = await postAgentEvents(t.app, rid('turn'), [turn('customer', content, t.clock.now)], { headers: t.ws.headers });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe('body.events.0.content');
    }
  });
});
