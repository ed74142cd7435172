/** No ghost calls: reconciling the active list with LiveKit's ListRooms, one instance at a time. */
import { afterEach, describe, expect, it } from 'vitest';
import { createReconciler, QUIET_MS } from '../../src/calls/reconcile.ts';
import { createTestApp } from '../helpers/app.ts';
import { AGENT, CALLER, startCall, wired, type Wired } from '../helpers/livekit-server-setup.ts';

let w: Wired | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const activeRooms = async (x: Wired) =>
  (await x.t.app.inject({ url: '/v2/api/active-calls', headers: x.t.ws.headers })).json().data.map((c: { roomName: string }) => c.roomName);

function reconciler(x: Wired) {
  if (!x.t.services.reconciler) throw new Error('no reconciler');
  return x.t.services.reconciler;
}

describe('reconcile with LiveKit', () => {
  it('ends an active call whose room LiveKit no longer has (a lost room_finished), keeping live ones', async () => {
    w = await wired();
    await startCall(w, 'call-ghost');
    await startCall(w, 'call-live');
    // The room closes but its webhooks are lost.
    w.lk.sink = undefined;
    w.lk.deleteRoom('call-ghost');
    w.t.clock.advance(QUIET_MS + 1000);
    expect(await reconciler(w).reconcile()).toEqual({ ran: true, ended: 1, adopted: 0 });
    expect(await activeRooms(w)).toEqual(['call-live']);
    expect(await w.t.services.stores.calls.latestEnded(w.t.ws.id, 'call-ghost')).toMatchObject({
      endReason: 'reconciled',
      endedAt: w.t.clock.now,
    });
    // Nothing left to do: running again changes nothing.
    expect(await reconciler(w).reconcile()).toEqual({ ran: true, ended: 0, adopted: 0 });
  });

  it('leaves a call that just saw an event alone (its room may be too new for ListRooms)', async () => {
    w = await wired();
    await startCall(w, 'call-fresh');
    w.lk.sink = undefined;
    w.lk.deleteRoom('call-fresh');
    w.t.clock.advance(QUIET_MS - 1000);
    expect((await reconciler(w).reconcile()).ended).toBe(0);
    expect(await activeRooms(w)).toEqual(['call-fresh']);
  });

  it('picks up a room with our metadata that livecalls never heard of, with its participants', async () => {
    w = await wired();
    w.lk.sink = undefined; // every webhook of this room is lost
    await startCall(w, 'call-unknown');
    w.lk.addRoom({ name: 'not-ours', metadata: { workspaceId: 'ws_unknown' } });
    w.lk.addRoom({ name: 'no-metadata', metadata: '' });
    expect(await activeRooms(w)).toEqual([]);
    expect(await reconciler(w).reconcile()).toEqual({ ran: true, ended: 0, adopted: 1 });
    const list = (await w.t.app.inject({ url: '/v2/api/active-calls', headers: w.t.ws.headers })).json();
    expect(list.count).toBe(1);
    expect(list.data[0]).toMatchObject({
      roomName: 'call-unknown',
      type: 'phone',
      aiAgentName: 'Support Agent',
      customerPhone: '+14155551234',
    });
    // Both joined in the same instant here, so their order is the sids'; compare as a set.
    expect(list.data[0].participants.map((p: { identity: string; isAgent: boolean }) => [p.identity, p.isAgent]).sort()).toEqual([
      [AGENT, true],
      [CALLER, false],
    ]);
    // Picked up once: the next pass finds it known.
    expect((await reconciler(w).reconcile()).adopted).toBe(0);
  });

  it('does not reopen a call ended here while LiveKit still lists its room', async () => {
    w = await wired();
    await startCall(w, 'call-closing');
    const call = await w.t.services.stores.calls.getActive(w.t.ws.id, 'call-closing');
    if (!call) throw new Error('no call');
    await w.t.services.calls.endHere(w.t.ws.id, call, 'ended_by_api');
    expect((await reconciler(w).reconcile()).adopted).toBe(0);
    expect(await activeRooms(w)).toEqual([]);
  });

  it('only one instance reconciles at a time; another takes over when the lease lapses', async () => {
    w = await wired({ LIVECALLS_RECONCILE_EVERY: '1m' });
    const { services } = w.t;
    const other = createReconciler({
      stores: services.stores,
      service: services.calls,
      projects: services.projects,
      clock: services.clock,
      everyMs: 60_000,
      log: services.log,
      holder: 'instance-b',
    });
    expect((await reconciler(w).reconcile()).ran).toBe(true);
    expect((await other.reconcile()).ran).toBe(false);
    w.t.clock.advance(60_000);
    // The holder renews its lease each period.
    expect((await reconciler(w).reconcile()).ran).toBe(true);
    expect((await other.reconcile()).ran).toBe(false);
    // The holder stops (crashed): after two periods the other instance takes over.
    w.t.clock.advance(120_000);
    expect((await other.reconcile()).ran).toBe(true);
    expect((await reconciler(w).reconcile()).ran).toBe(false);
  });

  it('fails without changing anything when LiveKit is unreachable', async () => {
    w = await wired();
    await startCall(w, 'call-kept');
    await w.lk.close();
    w.t.clock.advance(QUIET_MS + 1000);
    await expect(reconciler(w).reconcile()).rejects.toMatchObject({ code: 'livekit_unavailable' });
    expect(await activeRooms(w)).toEqual(['call-kept']);
  });

  it('reconciles no project without a LiveKit URL, and the interval is configurable', async () => {
    const t = await createTestApp({ LIVECALLS_RECONCILE_EVERY: '90s' });
    try {
      expect(await t.services.projects.withControl()).toEqual([]);
      expect(await t.services.reconciler.reconcile()).toEqual({ ran: true, ended: 0, adopted: 0 });
      expect(t.services.config.reconcileEveryMs).toBe(90_000);
    } finally {
      await t.close();
    }
  });
});
