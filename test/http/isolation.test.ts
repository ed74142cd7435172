/** A key of workspace A never sees, ends or learns about B's calls: 404 (not 403) for B's rooms. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestWorkspace } from '../helpers/app.ts';
import { participant, postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let t: TestApp;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  t = await createTestApp({ LIVECALLS_RATE_LIMIT: '0' });
  a = t.ws;
  b = await t.newWorkspace('b');
  const start = t.clock.now - 10_000;
  // B has a call whose room name also exists in A: the two must never mix.
  for (const [ws, agent] of [
    [a, 'Agent A'],
    [b, 'Agent B'],
  ] as const) {
    const r = room({ name: 'shared-name', sid: `RM_${ws.id}`, workspaceId: ws.id, agentName: agent, createdAt: start });
    await postWebhook(t.app, webhook('room_started', r, start));
    await postWebhook(t.app, webhook('participant_joined', r, start, participant(`agent-${ws.id}`, 'agent', start)));
    await postAgentEvents(t.app, 'shared-name', [turn('customer', `secret of ${agent}`, start + 1000, 'same-id')], { headers: ws.headers });
  }
  const onlyB = room({ name: 'b-only', workspaceId: b.id, createdAt: start });
  await postWebhook(t.app, webhook('room_started', onlyB, start));
});
afterAll(async () => {
  await t.close();
});

const get = (url: string, ws: TestWorkspace) => t.app.inject({ url, headers: ws.headers });

describe('workspace isolation', () => {
  it('lists only the workspace own calls', async () => {
    const listA = (await get('/v2/api/active-calls', a)).json();
    const listB = (await get('/v2/api/active-calls', b)).json();
    expect(listA.data.map((c: { roomName: string }) => c.roomName)).toEqual(['shared-name']);
    expect(listA.data[0].aiAgentName).toBe('Agent A');
    expect(listA.data[0].lastMessage).toBe('secret of Agent A');
    expect(listB.count).toBe(2);
    expect(listB.data.find((c: { roomName: string }) => c.roomName === 'shared-name').lastMessage).toBe('secret of Agent B');
  });

  it("answers 404 for another workspace's room on every route", async () => {
    for (const url of ['/v2/api/active-calls/b-only', '/v2/api/active-calls/b-only/insights']) {
      const res = await get(url, a);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    const end = await t.app.inject({ method: 'POST', url: '/v2/api/active-calls/b-only/end-call', headers: a.headers });
    expect([404, 503]).toContain(end.statusCode);
    expect((await get('/v2/api/active-calls', b)).json().count).toBe(2);
  });

  it("does not reveal another workspace's call by id", async () => {
    const idB = (await get('/v2/api/active-calls', b)).json().data[0].id;
    expect((await get(`/v2/api/calls/${idB}`, a)).statusCode).toBe(404);
    expect((await get(`/v2/api/calls/${idB}`, b)).statusCode).toBe(200);
  });

  it('the 404 for a foreign room is the same as for a room that does not exist', async () => {
    const foreign = (await get('/v2/api/active-calls/b-only', a)).json();
    const missing = (await get('/v2/api/active-calls/no-such-room', a)).json();
    expect(foreign.error.code).toBe(missing.error.code);
    expect(foreign.error.message.replace('b-only', 'X')).toBe(missing.error.message.replace('no-such-room', 'X'));
  });

  it("agent events sent with A's key for a room LiveKit bound to B are a 404, and nothing is stored anywhere", async () => {
    const res = await postAgentEvents(t.app, 'b-only', [turn('customer', 'from A', t.clock.now)], { headers: a.headers });
    expect(res.statusCode).toBe(404);
    const detailsB = (await get('/v2/api/active-calls/b-only', b)).json();
    expect(detailsB.transcript).toEqual([]);
    expect((await get('/v2/api/active-calls/b-only', a)).statusCode).toBe(404);
    expect((await get('/v2/api/active-calls', a)).json().data.map((c: { roomName: string }) => c.roomName)).toEqual(['shared-name']);
  });
});
