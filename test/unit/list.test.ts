/**
 * The list's pieces: a call's view plus any duration is exactly what JSON.stringify makes of the item; the
 * assembled body is exactly the serialised response; the embedded store's order stays the sorted order
 * through any sequence of changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listResponse } from '../../src/calls/list.ts';
import { newCall, startedAt, type Call } from '../../src/domain/call.ts';
import { toActiveCallItem, toListView } from '../../src/domain/view.ts';
import { callsInListOrder } from '../../src/domain/list-order.ts';
import { ActiveRooms } from '../../src/store/embedded/active-rooms.ts';

const T0 = Date.UTC(2026, 10, 24, 10);

/** Text with what JSON must escape, characters outside ASCII and BMP, and look-alikes of the duration field. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(',"duration":0,', '"duration":1', '\\"', '\u2028', '😀', ''),
);

const callArb = fc
  .record({
    id: fc.stringMatching(/^[0-9a-f]{24}$/),
    room: fc.string({ minLength: 1, maxLength: 20 }),
    start: fc.integer({ min: T0 - 86_400_000, max: T0 + 5_000 }),
    created: fc.boolean(),
    agent: fc.option(text, { nil: null }),
    customer: fc.option(text, { nil: null }),
    phone: fc.option(text, { nil: null }),
    turns: fc.array(text, { maxLength: 3 }),
    sip: fc.boolean(),
    transfer: fc.boolean(),
    sentiment: fc.constantFrom('positive' as const, 'neutral' as const, 'negative' as const),
  })
  .map((r): Call => {
    const call = newCall(r.id, 'ws', r.room, r.start);
    const stamp = <T>(value: T) => ({ value, at: r.start, id: 'e' });
    return {
      ...call,
      roomCreatedAt: r.created ? r.start - 10 : null,
      agentName: r.agent === null ? null : stamp(r.agent),
      customerName: r.customer === null ? null : stamp(r.customer),
      customerPhone: r.phone === null ? null : stamp(r.phone),
      participants: [
        { sid: 'PA_a', identity: 'agent', name: 'a', kind: 'agent', joinedAt: r.start, left: false, metadata: '', attributes: {} },
        ...(r.sip
          ? [
              {
                sid: 'PA_s',
                identity: 'sip_x',
                name: 's',
                kind: 'sip' as const,
                joinedAt: r.start + 1,
                left: false,
                metadata: '',
                attributes: {},
              },
            ]
          : []),
      ],
      transcript: r.turns.map((content, i) => ({ id: `t${i}`, role: 'customer' as const, content, at: r.start + i })),
      turnCount: r.turns.length,
      transfer: r.transfer ? stamp('why') : null,
      sentiment: r.sentiment,
    };
  });

describe('toListView', () => {
  it('head + duration + tail is the serialised item, for any call and any time', () => {
    fc.assert(
      fc.property(callArb, fc.integer({ min: T0 - 1_000, max: T0 + 10 * 86_400_000 }), (call, now) => {
        const view = toListView(call);
        const item = toActiveCallItem(call, now);
        expect(view.head + item.duration + view.tail).toBe(JSON.stringify(item));
        expect(view).toMatchObject({ id: call.id, startedAt: startedAt(call), type: item.type, sentiment: item.sentiment });
      }),
    );
  });
});

/** What the list answer must be, byte for byte: JSON.stringify of the items of `calls` (in order) as of `now`. */
function expectedBody(calls: readonly Call[], now: number): string {
  return JSON.stringify({ data: calls.map((c) => toActiveCallItem(c, now)), count: calls.length, timestamp: new Date(now).toISOString() });
}

describe('listResponse', () => {
  it('is the serialised {data, count, timestamp} of the views, whatever the durations and text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(callArb, { selector: (c) => c.id, maxLength: 8 }),
        fc.integer({ min: T0, max: T0 + 86_400_000 }),
        (calls, now) => {
          const sorted = [...calls].sort(callsInListOrder);
          const body = listResponse(sorted.map(toListView), {}, now).toString('utf8');
          expect(body).toBe(expectedBody(sorted, now));
        },
      ),
    );
  });
});

describe('listResponse, asked again of the same list', () => {
  it('stays exact as durations gain digits and the clock moves either way, with or without a filter', () => {
    const recent = fc
      .tuple(callArb, fc.integer({ min: T0 - 15_000, max: T0 }))
      .map(([c, start]) => ({ ...c, firstEventAt: start, roomCreatedAt: null }));
    const asked = fc.array(fc.tuple(fc.integer({ min: T0 - 2_000, max: T0 + 150_000 }), fc.boolean()), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.uniqueArray(recent, { selector: (c) => c.id, maxLength: 6 }), asked, (calls, requests) => {
        const sorted = [...calls].sort(callsInListOrder);
        const views = sorted.map(toListView);
        for (const [now, phoneOnly] of requests) {
          const picked = phoneOnly ? sorted.filter((c) => toActiveCallItem(c, now).type === 'phone') : sorted;
          const body = listResponse(views, phoneOnly ? { type: 'phone' } : {}, now).toString('utf8');
          expect(body).toBe(expectedBody(picked, now));
        }
      }),
    );
  });
});

describe('ActiveRooms', () => {
  it('keeps list order and the views current through any sequence of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        room: fc.integer({ min: 0, max: 6 }),
        start: fc.integer({ min: 0, max: 5 }),
        id: fc.integer({ min: 0, max: 20 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), room: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('read' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const rooms = new ActiveRooms();
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            // Ids are unique across rooms, as call ids are; the same room may get a new call or a changed one.
            rooms.set(`r${o.room}`, { ...newCall(`${o.id}-${o.room}`, 'ws', `r${o.room}`, T0 + o.start * 1000), turnCount: n++ });
          } else if (o.kind === 'delete') rooms.delete(`r${o.room}`);
          const expected = [...rooms.values()].sort(callsInListOrder);
          expect(rooms.sorted()).toEqual(expected);
          expect(rooms.views().map((v) => v.id)).toEqual(expected.map((c) => c.id));
        }
      }),
    );
  });

  it('hands back the same views array until a call changes, and makes a view once per call object', () => {
    const rooms = new ActiveRooms();
    const a = newCall('a', 'ws', 'ra', T0);
    rooms.set('ra', a);
    rooms.set('rb', newCall('b', 'ws', 'rb', T0 + 1));
    const first = rooms.views();
    expect(rooms.views()).toBe(first);
    rooms.set('ra', a); // the same object again: nothing changed
    expect(rooms.views()).toBe(first);
    rooms.set('ra', { ...a, sentiment: 'negative' });
    const second = rooms.views();
    expect(second).not.toBe(first);
    expect(second[1]).toBe(first[1]);
    expect(second[0]?.sentiment).toBe('negative');
  });
});
