/** Calls that stop receiving events are ended after LIVECALLS_STALE_AFTER (a lost room_finished). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ LIVECALLS_STALE_AFTER: '10m' });
});
afterEach(async () => {
  await t.close();
});

const rooms = async () =>
  (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json().data.map((c: { roomName: string }) => c.roomName);

describe('stale call expiry', () => {
  it('ends a call with no event for the stale window, and keeps one that is still talking', async () => {
    for (const name of ['quiet', 'busy']) {
      await postWebhook(t.app, webhook('room_started', room({ name, workspaceId: t.ws.id, createdAt: t.clock.now }), t.clock.now));
    }
    t.clock.advance(9 * 60_000);
    await postAgentEvents(t.app, 'busy', [turn('customer', 'still here', t.clock.now)], { headers: t.ws.headers });
    expect(await t.services.sweeper.sweep()).toBe(0);
    t.clock.advance(2 * 60_000);
    expect(await t.services.sweeper.sweep()).toBe(1);
    expect(await rooms()).toEqual(['busy']);
    const ended = await t.services.stores.calls.latestEnded(t.ws.id, 'quiet');
    expect(ended).toMatchObject({ endReason: 'stale', endedAt: t.clock.now });
    expect((await t.app.inject({ url: '/metrics' })).body).toMatch(/livecalls_calls_expired_total 1/);
    // A late event for the expired room does not bring it back.
    await postWebhook(
      t.app,
      webhook(
        'participant_left',
        room({ name: 'quiet', workspaceId: t.ws.id, createdAt: t.clock.now - 11 * 60_000 }),
        t.clock.now - 10 * 60_000,
      ),
    );
    expect(await rooms()).toEqual(['busy']);
  });
});
