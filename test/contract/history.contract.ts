/**
 * The call-history contract: every backend's `HistoryStore` (embedded SQLite; PostgreSQL in scale-out) runs
 * this same suite. Calls are ended through the real ingest path, so what fills the history is what runs in
 * production (the embedded store's own end path, or the archive's put).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { searchTerms } from '../../src/domain/history.ts';
import { statFlags } from '../../src/domain/stats.ts';
import type { HistoryKey, Stores } from '../../src/store/types.ts';
import { endCall, type EndedCallSpec } from '../helpers/history.ts';
import { serviceFor } from '../helpers/service.ts';
import type { Backend } from './stores.contract.ts';

const T0 = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;

const CALLS: (EndedCallSpec & { ws?: string })[] = [
  {
    room: 'a',
    start: T0,
    end: T0 + 5 * MIN,
    agent: 'Sales',
    customerName: 'Jane Roe',
    phone: '+14155550123',
    sip: true,
    turns: ['I love this, thank you so much, wonderful'],
  },
  {
    room: 'b',
    start: T0 + 10 * MIN,
    end: T0 + 12 * MIN,
    agent: 'Support',
    turns: ['this is terrible, my parcel never arrived', 'sorry to hear that'],
    transfer: true,
  },
  {
    room: 'c',
    start: T0 + 20 * MIN,
    end: T0 + 21 * MIN,
    agent: 'Support',
    customerName: 'Bob Stone',
    turns: ['what time do you open'],
    reason: 'stale',
  },
  // A long call (over 6 hours) that started well before the others and overlaps all of them.
  { room: 'long', start: T0 - 7 * 60 * MIN, end: T0 + 30 * MIN, agent: 'Sales', turns: ['still here'] },
  // Another workspace's call that says the same words: never visible to ws1.
  {
    ws: 'ws2',
    room: 'a',
    start: T0 + 1,
    end: T0 + 5 * MIN,
    agent: 'Sales',
    customerName: 'Jane Roe',
    turns: ['parcel never arrived terrible'],
  },
];

export function historyContract(name: string, backend: Backend): void {
  describe(`history contract: ${name}`, () => {
    const opened: { stores: Stores; place: string }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.stores.close();
        await backend.dispose(o.place);
      }
    });

    async function seeded() {
      const place = backend.newPlace();
      const stores = await backend.open(place);
      opened.push({ stores, place });
      const service = serviceFor(stores, T0 + 60 * MIN);
      for (const c of CALLS) await endCall(service, c.ws ?? 'ws1', c);
      // Live calls still in progress are not history.
      await service.ingest('ws1', 'live', [{ type: 'transcript', id: 'live1', at: T0, role: 'customer', content: 'parcel' }], 'agent');
      return stores;
    }
    const rooms = (calls: { roomName: string }[]) => calls.map((c) => c.roomName);

    it('pages the workspace ended calls newest first, with the total', async () => {
      const { history } = await seeded();
      const all = await history.page('ws1', {}, 0, 10);
      expect(rooms(all.calls)).toEqual(['c', 'b', 'a', 'long']);
      expect(all.total).toBe(4);
      const second = await history.page('ws1', {}, 2, 2);
      expect(rooms(second.calls)).toEqual(['a', 'long']);
      expect(second.total).toBe(4);
      expect((await history.page('nobody', {}, 0, 10)).total).toBe(0);
    });

    it('filters by agent, call type, sentiment, transfer, end reason and start time', async () => {
      const { history } = await seeded();
      const q = async (query: Parameters<Stores['history']['page']>[1]) => rooms((await history.page('ws1', query, 0, 10)).calls);
      expect(await q({ agent: 'Support' })).toEqual(['c', 'b']);
      expect(await q({ callType: 'phone' })).toEqual(['a']);
      expect(await q({ callType: 'web', agent: 'Sales' })).toEqual(['long']);
      expect(await q({ sentiment: 'negative' })).toEqual(['b']);
      expect(await q({ sentiment: 'positive' })).toEqual(['a']);
      expect(await q({ transferRequested: true })).toEqual(['b']);
      expect(await q({ transferRequested: false })).toEqual(['c', 'a', 'long']);
      expect(await q({ endReason: 'stale' })).toEqual(['c']);
      expect(await q({ from: T0, to: T0 + 20 * MIN })).toEqual(['b', 'a']);
    });

    it('searches the transcript, the caller name and the number as words, in this workspace only', async () => {
      const { history } = await seeded();
      const s = async (text: string) => rooms((await history.page('ws1', { terms: searchTerms(text) }, 0, 10)).calls);
      expect(await s('parcel')).toEqual(['b']);
      expect(await s('PARCEL never')).toEqual(['b']);
      expect(await s('parcel open')).toEqual([]);
      expect(await s('jane')).toEqual(['a']);
      expect(await s('Stone')).toEqual(['c']);
      expect(await s('+1 415 555 0123')).toEqual(['a']);
      expect(await s('4155550123')).toEqual(['a']);
      expect(await s('5550123')).toEqual(['a']);
      expect(await s('parc')).toEqual([]);
      const page = await history.page('ws1', { terms: searchTerms('parcel'), agent: 'Sales' }, 0, 10);
      expect(page).toEqual({ calls: [], total: 0 });
    });

    it('reads one ended call and full transcripts, never another workspace', async () => {
      const { history } = await seeded();
      const [b] = (await history.page('ws1', { agent: 'Support', endReason: 'room_finished' }, 0, 1)).calls;
      if (!b) throw new Error('no call');
      expect((await history.get('ws1', b.id))?.roomName).toBe('b');
      expect(await history.get('ws2', b.id)).toBeUndefined();
      expect((await history.transcripts('ws1', [b.id])).get(b.id)?.map((t) => t.content)).toEqual([
        'this is terrible, my parcel never arrived',
        'sorry to hear that',
      ]);
      expect((await history.transcripts('ws2', [b.id])).get(b.id)).toEqual([]);
      expect(b.outcome?.summary).toContain('parcel');
    });

    it('exports a range by key, oldest first, each call once', async () => {
      const { history } = await seeded();
      const seen: string[] = [];
      let after: HistoryKey | null = null;
      for (;;) {
        const batch = await history.exportBatch('ws1', T0 - 8 * 60 * MIN, T0 + 60 * MIN, after, 1);
        if (!batch.length) break;
        seen.push(...rooms(batch));
        const last = batch[batch.length - 1];
        if (!last) break;
        after = { startedAt: last.roomCreatedAt ?? last.firstEventAt, id: last.id };
      }
      expect(seen).toEqual(['long', 'a', 'b', 'c']);
      expect(rooms(await history.exportBatch('ws1', T0, T0 + 15 * MIN, null, 10))).toEqual(['a', 'b']);
    });

    it('finds the calls overlapping a range, long calls included, and which live calls it holds already', async () => {
      const { history, calls: live } = await seeded();
      const found = async (from: number, to: number, f = {}) => {
        const { calls } = await history.overlapping('ws1', from, to, f);
        return Array.from({ length: calls.length }, (_, i) => ({
          startedAt: calls.startedAt[i],
          endedAt: calls.endedAt[i],
          agent: calls.agents[calls.agent[i] ?? -1],
          flags: calls.flags[i],
        }));
      };
      const ids = async (from: number, to: number, f = {}) => (await found(from, to, f)).map((c) => `${c.agent}${c.startedAt}`).sort();
      expect((await found(T0 + 11 * MIN, T0 + 11 * MIN + 1)).length).toBe(2); // b and long
      expect(await ids(T0 + 25 * MIN, T0 + 40 * MIN)).toEqual([`Sales${T0 - 7 * 60 * MIN}`]);
      expect(await ids(T0 + 31 * MIN, T0 + 40 * MIN)).toEqual([]);
      expect((await found(T0, T0 + 60 * MIN, { agent: 'Support' })).length).toBe(2);
      expect(await ids(T0, T0 + 60 * MIN, { callType: 'phone' })).toEqual([`Sales${T0}`]); // a
      const [b] = await found(T0 + 11 * MIN, T0 + 12 * MIN, { agent: 'Support' });
      expect(b).toEqual({ startedAt: T0 + 10 * MIN, endedAt: T0 + 12 * MIN, agent: 'Support', flags: statFlags('negative', true) });
      // Of the ids asked about, the archived ones: an ended call is, the live one and unknown ones are not.
      const [a] = (await history.page('ws1', { callType: 'phone' }, 0, 1)).calls;
      const active = await live.getActive('ws1', 'live');
      const { archived } = await history.overlapping('ws1', T0, T0 + 60 * MIN, {}, [a?.id ?? '', active?.id ?? '', 'call_unknown']);
      expect(active).toBeDefined();
      expect(archived).toEqual([a?.id]);
      expect((await history.overlapping('ws2', T0, T0 + 60 * MIN, {}, [a?.id ?? ''])).archived).toEqual([]);
    });

    it('purges calls that ended before a time, in batches, with their transcripts and search entries', async () => {
      const { history } = await seeded();
      const [b] = (await history.page('ws1', { agent: 'Support', endReason: 'room_finished' }, 0, 1)).calls;
      // a (ws1), ws2's a, b end by T0 + 12 min; c and long later.
      expect(await history.purge(T0 + 13 * MIN, 2)).toBe(2);
      expect(await history.purge(T0 + 13 * MIN, 2)).toBe(1);
      expect(await history.purge(T0 + 13 * MIN, 2)).toBe(0);
      expect(rooms((await history.page('ws1', {}, 0, 10)).calls)).toEqual(['c', 'long']);
      expect((await history.page('ws2', {}, 0, 10)).total).toBe(0);
      expect((await history.page('ws1', { terms: ['parcel'] }, 0, 10)).total).toBe(0);
      if (b) {
        expect(await history.get('ws1', b.id)).toBeUndefined();
        expect((await history.transcripts('ws1', [b.id])).get(b.id)).toEqual([]);
      }
    });
  });
}
