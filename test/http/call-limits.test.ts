/**
 * What one workspace's API key can make the server hold: a bounded number of active calls it opens by agent
 * events alone (LIVECALLS_MAX_ACTIVE_CALLS), whatever another workspace does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestWorkspace } from '../helpers/app.ts';
import { postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let t: TestApp;
let b: TestWorkspace;
beforeAll(async () => {
  t = await createTestApp({ LIVECALLS_MAX_ACTIVE_CALLS: '3', LIVECALLS_RATE_LIMIT: '0' });
  b = await t.newWorkspace('b');
});
afterAll(() => t.close());

const say = (ws: TestWorkspace, roomName: string, text: string) =>
  postAgentEvents(t.app, roomName, [turn('customer', text, t.clock.now)], { headers: ws.headers });
const rooms = async (ws: TestWorkspace) =>
  (await t.app.inject({ url: '/v2/api/active-calls', headers: ws.headers })).json().data.map((c: { roomName: string }) => c.roomName);

describe('active calls a workspace opens with its API key', () => {
  it('opens at most LIVECALLS_MAX_ACTIVE_CALLS; its active calls and other workspaces go on; LiveKit is never refused', async () => {
    const a = t.ws;
    for (const r of ['a-1', 'a-2', 'a-3']) expect((await say(a, r, 'hello')).statusCode).toBe(202);
    const refused = await say(a, 'a-4', 'one more');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatchObject({ code: 'too_many_calls' });
    expect(refused.json().error.message).toContain('LIVECALLS_MAX_ACTIVE_CALLS');
    expect((await rooms(a)).sort()).toEqual(['a-1', 'a-2', 'a-3']);
    // Its active calls still take events; another workspace is not affected.
    expect((await say(a, 'a-2', 'still here')).statusCode).toBe(202);
    expect((await say(b, 'b-1', 'hello')).statusCode).toBe(202);
    // A call LiveKit announces is taken even at the cap.
    const res = await postWebhook(
      t.app,
      webhook('room_started', room({ name: 'a-lk', sid: 'RM_alk', workspaceId: a.id, createdAt: t.clock.now }), t.clock.now),
    );
    expect(res.statusCode).toBe(200);
    expect(await rooms(a)).toContain('a-lk');
    // Once a call ends, there is room for another.
    await postWebhook(
      t.app,
      webhook('room_finished', room({ name: 'a-lk', sid: 'RM_alk', workspaceId: a.id, createdAt: t.clock.now }), t.clock.now + 1000),
    );
    await postWebhook(
      t.app,
      webhook('room_started', room({ name: 'a-1', sid: 'RM_a1', workspaceId: a.id, createdAt: t.clock.now }), t.clock.now + 1000),
    );
    await postWebhook(
      t.app,
      webhook('room_finished', room({ name: 'a-1', sid: 'RM_a1', workspaceId: a.id, createdAt: t.clock.now }), t.clock.now + 2000),
    );
    expect((await say(a, 'a-4', 'now there is room')).statusCode).toBe(202);
  });
});
