/** Calls that stop receiving events are ended after LIVECALLS_STALE_AFTER (a lost room_finished). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSweeper, sweepEvery } from '../../src/calls/sweeper.ts';
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

  it('sweeps on one instance at a time: a lease, taken over once its holder stops renewing it', async () => {
    const sweeperOf = (holder: string) =>
      createSweeper({
        calls: t.services.stores.calls,
        leases: t.services.stores,
        holder,
        service: t.services.calls,
        staleAfterMs: 10 * 60_000,
        clock: t.services.clock,
        metrics: t.services.metrics,
        log: t.services.log,
      });
    const [a, b] = [sweeperOf('instance-a'), sweeperOf('instance-b')];
    for (const name of ['one', 'two']) {
      await postWebhook(t.app, webhook('room_started', room({ name, workspaceId: t.ws.id, createdAt: t.clock.now }), t.clock.now));
    }
    // A sweeps on its schedule (nothing is stale yet), renewing its lease each time.
    for (let i = 0; i < 4; i++) {
      t.clock.advance(150_000);
      expect(await a.sweep()).toBe(0);
    }
    // Both calls are stale now, but B finds the lease held: it ends nothing.
    t.clock.advance(60_000);
    expect(await b.sweep()).toBe(0);
    expect((await rooms()).sort()).toEqual(['one', 'two']);
    expect(await a.sweep()).toBe(2);
    // A stops (it crashed): once its lease runs out, B sweeps.
    await postWebhook(t.app, webhook('room_started', room({ name: 'three', workspaceId: t.ws.id, createdAt: t.clock.now }), t.clock.now));
    t.clock.advance(Math.max(11 * 60_000, sweepEvery(10 * 60_000) * 3 + 1));
    expect(await b.sweep()).toBe(1);
    expect(await rooms()).toEqual([]);
  });
});
