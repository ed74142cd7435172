/**
 * The store contract: every backend (embedded today; Redis/PostgreSQL next) runs this same suite.
 * A backend's test file calls `storeContract(name, open)`; `open` may be called again on the same
 * `place` to check that what a backend acknowledged survives a reopen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_LIVE_TURNS, MAX_TRANSCRIPT_CHARS, TURN_OVERHEAD_CHARS } from '../../src/domain/call.ts';
import type { CallEvent, RoomRef } from '../../src/domain/events.ts';
import { AppError } from '../../src/errors.ts';
import type { Stores } from '../../src/store/types.ts';
import { serviceFor } from '../helpers/service.ts';
import { settingsContract } from './settings.contract.ts';

export interface Backend {
  /** Opens the backend at `place` (the same place = the same data). */
  open(place: string): Promise<Stores>;
  /** A new, empty place. */
  newPlace(): string;
  dispose(place: string): Promise<void>;
}

const T0 = Date.UTC(2026, 5, 1, 12);

function roomRef(name: string, sid = `RM_${name}`, createdAt = T0): RoomRef {
  return { sid, name, createdAt, agentName: 'Agent', customerName: null };
}

function started(name: string, id: string, createdAt = T0, sid?: string): CallEvent {
  return { type: 'room_started', id, at: createdAt, room: roomRef(name, sid, createdAt) };
}

function say(id: string, at: number, content = 'hello'): CallEvent {
  return { type: 'transcript', id, at, role: 'customer', content };
}

export function storeContract(name: string, backend: Backend): void {
  describe(`store contract: ${name}`, () => {
    const opened: { stores: Stores; place: string }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.stores.close();
        await backend.dispose(o.place);
      }
    });

    async function open(place = backend.newPlace()) {
      const stores = await backend.open(place);
      opened.push({ stores, place });
      const service = serviceFor(stores, T0 + 60_000);
      return { stores, service, place };
    }

    it('creates a call from its first event and lists active calls oldest first', async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'b', [started('b', 'e1', T0 + 5000)], 'livekit');
      await service.ingest('ws1', 'a', [started('a', 'e2', T0)], 'livekit');
      await service.ingest('ws1', 'c', [say('e3', T0 + 9000)], 'agent');
      const list = await stores.calls.listActive('ws1');
      expect(list.map((c) => c.roomName)).toEqual(['a', 'b', 'c']);
      expect(list.every((c) => /^[0-9a-f]{24}$/.test(c.id))).toBe(true);
      expect(await stores.calls.listActive('ws2')).toEqual([]);
    });

    it('dedupes event ids per workspace, reporting applied and duplicates', async () => {
      const { service } = await open();
      const first = await service.ingest('ws1', 'r', [started('r', 'dup'), say('s1', T0 + 1)], 'livekit');
      expect([first.applied, first.duplicates]).toEqual([2, 0]);
      expect(first.changes).toHaveLength(1);
      expect(first.changes[0]?.before).toBeUndefined();
      const again = await service.ingest('ws1', 'r', [say('s1', T0 + 1), say('s2', T0 + 2)], 'agent');
      expect([again.applied, again.duplicates]).toEqual([1, 1]);
      expect(again.changes[0]?.before?.turnCount).toBe(1);
      expect(again.changes[0]?.after.turnCount).toBe(2);
      // The same id in another workspace is another event.
      const other = await service.ingest('ws2', 'r', [started('r', 'dup')], 'livekit');
      expect(other.applied).toBe(1);
    });

    it('keeps a bounded live transcript on the call and the full one in the store', async () => {
      const { stores, service } = await open();
      const turns = Array.from({ length: MAX_LIVE_TURNS + 15 }, (_, i) => say(`t${i}`, T0 + i * 10, `turn ${i}`));
      await service.ingest('ws1', 'long', turns.slice(0, 40), 'agent');
      await service.ingest('ws1', 'long', turns.slice(40), 'agent');
      const call = await stores.calls.getActive('ws1', 'long');
      expect(call?.transcript).toHaveLength(MAX_LIVE_TURNS);
      expect(call?.transcript.at(-1)?.content).toBe(`turn ${MAX_LIVE_TURNS + 14}`);
      expect(call?.turnCount).toBe(MAX_LIVE_TURNS + 15);
      const full = await stores.calls.transcript('ws1', call?.id ?? '');
      expect(full.map((t) => t.content)).toEqual(turns.map((_, i) => `turn ${i}`));
      expect(await stores.calls.transcript('ws2', call?.id ?? '')).toEqual([]);
    });

    it('stores no turn past a full transcript (MAX_TRANSCRIPT_CHARS), and counts what it dropped', async () => {
      const { stores, service } = await open();
      // Ids of 4 characters: each turn counts 10,000 with its id and TURN_OVERHEAD_CHARS.
      const size = 10_000 - 4 - TURN_OVERHEAD_CHARS;
      const fits = MAX_TRANSCRIPT_CHARS / 10_000;
      const id = (i: number) => `f${String(i).padStart(3, '0')}`;
      const turns = Array.from({ length: fits + 2 }, (_, i) => say(id(i), T0 + i, `${i} `.padEnd(size, 'x')));
      for (let i = 0; i < turns.length; i += 25) await service.ingest('ws1', 'full', turns.slice(i, i + 25), 'agent');
      const call = await stores.calls.getActive('ws1', 'full');
      expect(call).toMatchObject({ turnCount: fits, transcriptChars: MAX_TRANSCRIPT_CHARS, turnsDropped: 2 });
      const kept = await stores.calls.transcript('ws1', call?.id ?? '');
      expect(kept).toHaveLength(fits);
      expect(kept.at(-1)?.id).toBe(id(fits - 1));
    });

    it("counts a workspace's active calls, and only its own", async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'c1', [started('c1', 'n1')], 'livekit');
      await service.ingest('ws1', 'c2', [say('n2', T0 + 1, 'hi')], 'agent');
      await service.ingest('ws2', 'c3', [started('c3', 'n3')], 'livekit');
      expect([await stores.calls.countActive('ws1'), await stores.calls.countActive('ws2'), await stores.calls.countActive('ws3')]).toEqual(
        [2, 1, 0],
      );
      await service.ingest('ws1', 'c1', [{ type: 'room_finished', id: 'n4', at: T0 + 5000, room: roomRef('c1') }], 'livekit');
      expect(await stores.calls.countActive('ws1')).toBe(1);
    });

    it('ends calls: they leave the active list and stay readable by id with their transcript', async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'r', [started('r', 'e1'), say('s1', T0 + 1000, 'bye')], 'livekit');
      const id = (await stores.calls.getActive('ws1', 'r'))?.id ?? '';
      await service.ingest('ws1', 'r', [{ type: 'room_finished', id: 'e2', at: T0 + 5000, room: roomRef('r') }], 'livekit');
      expect(await stores.calls.getActive('ws1', 'r')).toBeUndefined();
      expect(await stores.calls.listActive('ws1')).toEqual([]);
      const ended = await stores.calls.getCall('ws1', id);
      expect(ended).toMatchObject({ id, endedAt: T0 + 5000, endReason: 'room_finished' });
      expect((await stores.calls.latestEnded('ws1', 'r'))?.id).toBe(id);
      expect(await stores.calls.getCall('ws2', id)).toBeUndefined();
      expect((await stores.calls.transcript('ws1', id)).map((t) => t.content)).toEqual(['bye']);
    });

    it('a reused room name with a new sid is a new call; the old one is ended as superseded', async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'r', [started('r', 'e1', T0, 'RM_one')], 'livekit');
      const first = (await stores.calls.getActive('ws1', 'r'))?.id;
      const result = await service.ingest('ws1', 'r', [started('r', 'e2', T0 + 60_000, 'RM_two')], 'livekit');
      expect(result.changes).toHaveLength(2);
      const now = await stores.calls.getActive('ws1', 'r');
      expect(now?.roomSid).toBe('RM_two');
      expect(now?.id).not.toBe(first);
      expect((await stores.calls.getCall('ws1', first ?? ''))?.endReason).toBe('superseded');
      expect(await stores.calls.workspaceOfRoomSid('RM_two')).toBe('ws1');
      expect(await stores.calls.workspaceOfRoomSid('RM_none')).toBeUndefined();
    });

    it('lists idle calls by server activity time', async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'idle', [started('idle', 'i1')], 'livekit');
      const idle = await stores.calls.listIdle(T0 + 60_001, 10);
      expect(idle).toEqual([{ workspaceId: 'ws1', roomName: 'idle' }]);
      expect(await stores.calls.listIdle(T0 + 60_000, 10)).toEqual([]);
      expect(await stores.calls.pruneSeen(T0)).toBeGreaterThanOrEqual(0);
    });

    it('archives an ended call exactly once, even when two writers end it', async () => {
      const { stores, service } = await open();
      await service.ingest('ws1', 'arc', [started('arc', 'a1'), say('a2', T0 + 1, 'kept')], 'livekit');
      const id = (await stores.calls.getActive('ws1', 'arc'))?.id ?? '';
      const finish: CallEvent = { type: 'room_finished', id: 'fin', at: T0 + 9000, room: roomRef('arc') };
      const ended: CallEvent = { type: 'call_ended', id: 'api-end', at: T0 + 8000, reason: 'ended_by_api' };
      const results = await Promise.all([
        service.ingest('ws1', 'arc', [finish], 'livekit'),
        service.ingest('ws1', 'arc', [finish], 'livekit'),
        service.ingest('ws1', 'arc', [ended], 'api'),
      ]);
      expect(results.reduce((n, r) => n + r.applied, 0)).toBe(2);
      expect(await stores.calls.archivePending()).toBeGreaterThanOrEqual(0);
      const call = await stores.calls.getCall('ws1', id);
      expect(call).toMatchObject({ endedAt: T0 + 8000, endReason: 'ended_by_api' });
      expect((await stores.calls.transcript('ws1', id)).map((t) => t.content)).toEqual(['kept']);
      expect(await stores.calls.listActive('ws1')).toEqual([]);
    });

    it('keeps everything acknowledged across a reopen', async () => {
      const first = await open();
      await first.service.ingest('ws1', 'keep', [started('keep', 'k1'), say('k2', T0 + 1, 'still here')], 'livekit');
      const ws = await first.stores.tenants.createWorkspace('w', T0);
      const { apiKey } = await first.stores.tenants.createKey(ws.id, T0);
      await first.stores.close();
      opened.splice(0);
      const second = await open(first.place);
      const call = await second.stores.calls.getActive('ws1', 'keep');
      expect(call?.lastActivityAt).toBe(T0 + 60_000);
      expect(call?.transcript.map((t) => t.content)).toEqual(['still here']);
      expect((await second.stores.tenants.verifyKey(apiKey))?.workspaceId).toBe(ws.id);
      expect((await second.service.ingest('ws1', 'keep', [say('k2', T0 + 1)], 'agent')).duplicates).toBe(1);
    });

    it('workspaces and keys: hashed keys, verify, revoke', async () => {
      const { stores } = await open();
      expect(await stores.tenants.countWorkspaces()).toBe(0);
      const ws = await stores.tenants.createWorkspace('Acme', T0);
      expect(ws.id).toMatch(/^ws_[0-9a-f]{16}$/);
      expect(await stores.tenants.getWorkspace(ws.id)).toEqual(ws);
      expect(await stores.tenants.getWorkspace('ws_nope')).toBeUndefined();
      const { key, apiKey } = await stores.tenants.createKey(ws.id, T0);
      expect(apiKey).toMatch(/^lc_[0-9a-f]{16}_[0-9a-f]{64}$/);
      expect(await stores.tenants.verifyKey(apiKey)).toEqual({ id: key.id, workspaceId: ws.id, createdAt: T0, revokedAt: null });
      // Same key id, wrong secret.
      expect(await stores.tenants.verifyKey(apiKey.slice(0, -1) + (apiKey.endsWith('0') ? '1' : '0'))).toBeUndefined();
      expect(await stores.tenants.verifyKey('lc_nope')).toBeUndefined();
      expect(await stores.tenants.revokeKey(key.id, T0 + 1)).toBe(true);
      expect(await stores.tenants.revokeKey(key.id, T0 + 2)).toBe(false);
      expect(await stores.tenants.verifyKey(apiKey)).toBeUndefined();
      await expect(stores.tenants.createKey('ws_missing', T0)).rejects.toBeInstanceOf(AppError);
      expect(await stores.tenants.countWorkspaces()).toBe(1);
    });

    it('answers ping while up', async () => {
      const { stores } = await open();
      await expect(stores.ping()).resolves.toBeUndefined();
    });

    it('leases: one holder at a time, renewed by its holder, taken over once expired, kept across a reopen', async () => {
      const first = await open();
      const { stores } = first;
      expect(await stores.tryLease('job', 'a', 1000, T0)).toBe(true);
      expect(await stores.tryLease('job', 'b', 1000, T0 + 500)).toBe(false);
      // Another lease name is independent.
      expect(await stores.tryLease('other-job', 'b', 1000, T0 + 500)).toBe(true);
      // The holder renews: the lease now runs to T0 + 900 + 1000.
      expect(await stores.tryLease('job', 'a', 1000, T0 + 900)).toBe(true);
      expect(await stores.tryLease('job', 'b', 1000, T0 + 1500)).toBe(false);
      // Expired: the first to ask takes it, and the old holder is refused.
      expect(await stores.tryLease('job', 'b', 1000, T0 + 1900)).toBe(true);
      expect(await stores.tryLease('job', 'a', 1000, T0 + 1901)).toBe(false);
      // Contested at the same instant: exactly one wins.
      const contenders = await Promise.all(['c', 'd', 'e'].map((h) => stores.tryLease('race', h, 1000, T0)));
      expect(contenders.filter(Boolean)).toHaveLength(1);
      await stores.close();
      opened.splice(0);
      const second = await open(first.place);
      expect(await second.stores.tryLease('job', 'a', 1000, T0 + 2000)).toBe(false);
      expect(await second.stores.tryLease('job', 'b', 1000, T0 + 2000)).toBe(true);
    });

    settingsContract(open, async (place) => {
      opened.splice(0);
      const stores = await backend.open(place);
      opened.push({ stores, place });
      return stores;
    });

    describe('room ownership registry', () => {
      it('keeps the newest room of a name per project; an older room or an ended sid does not take it back', async () => {
        const { stores, place } = await open();
        const rooms = stores.rooms;
        expect(await rooms.owner('P', 'r')).toBeUndefined();
        expect(await rooms.bind('P', 'r', { workspaceId: 'ws1', roomSid: 'RM_1', since: T0 })).toBe(true);
        // Same binding again: still true (it is the record), and nothing changes.
        expect(await rooms.bind('P', 'r', { workspaceId: 'ws1', roomSid: 'RM_1', since: T0 })).toBe(true);
        // An older room's late event does not take the name.
        expect(await rooms.bind('P', 'r', { workspaceId: 'ws2', roomSid: 'RM_0', since: T0 - 1000 })).toBe(false);
        expect(await rooms.owner('P', 'r')).toEqual({ workspaceId: 'ws1', roomSid: 'RM_1', since: T0, ended: false });
        // Another project's room of the same name is another room.
        expect(await rooms.bind('Q', 'r', { workspaceId: 'ws3', roomSid: 'RM_q', since: T0 + 5 })).toBe(true);
        expect((await rooms.owner('P', 'r'))?.workspaceId).toBe('ws1');
        // Released only by its own sid; an ended sid is not revived by its late events.
        await rooms.release('P', 'r', 'RM_other');
        expect((await rooms.owner('P', 'r'))?.ended).toBe(false);
        await rooms.release('P', 'r', 'RM_1');
        expect((await rooms.owner('P', 'r'))?.ended).toBe(true);
        expect(await rooms.bind('P', 'r', { workspaceId: 'ws1', roomSid: 'RM_1', since: T0 })).toBe(false);
        // A newer room of the name takes it.
        expect(await rooms.bind('P', 'r', { workspaceId: 'ws2', roomSid: 'RM_2', since: T0 + 60_000 })).toBe(true);
        expect(await rooms.owner('P', 'r')).toEqual({ workspaceId: 'ws2', roomSid: 'RM_2', since: T0 + 60_000, ended: false });
        // What was acknowledged survives a reopen.
        const again = await backend.open(place);
        opened.push({ stores: again, place });
        expect((await again.rooms.owner('P', 'r'))?.roomSid).toBe('RM_2');
      });

      it('records claims per project and room, and forgets them one by one', async () => {
        const { stores } = await open();
        const rooms = stores.rooms;
        await rooms.claim('P', 'r', 'ws1', T0);
        await rooms.claim('P', 'r', 'ws2', T0);
        await rooms.claim('P', 'r', 'ws1', T0 + 1);
        await rooms.claim('Q', 'r', 'ws3', T0);
        expect((await rooms.claimants('P', 'r')).sort()).toEqual(['ws1', 'ws2']);
        await rooms.unclaim('P', 'r', 'ws1');
        expect(await rooms.claimants('P', 'r')).toEqual(['ws2']);
        expect(await rooms.claimants('Q', 'r')).toEqual(['ws3']);
        expect(await rooms.claimants('P', 'other')).toEqual([]);
      });
    });
  });
}
