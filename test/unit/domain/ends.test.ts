/** Which end of a call stands when several come (domain/call.ts `standingEnd`), in either order. */
import { describe, expect, it } from 'vitest';
import { applyEvent, newCall } from '../../../src/domain/call.ts';
import type { CallEvent, EndReason } from '../../../src/domain/events.ts';

const T0 = Date.UTC(2026, 0, 1);
const ended = (id: string, at: number, reason: EndReason): CallEvent => ({ type: 'call_ended', id, at, reason });
const finished = (at: number): CallEvent => ({
  type: 'room_finished',
  id: 'lk:fin',
  at,
  room: { sid: 'RM_1', name: 'r', createdAt: T0, agentName: null, customerName: null },
});

function both(a: CallEvent, b: CallEvent) {
  const fold = (events: CallEvent[]) => events.reduce((call, e) => applyEvent(call, e, T0), newCall('c1', 'ws', 'r', T0));
  const one = fold([a, b]);
  const other = fold([b, a]);
  expect({ at: one.endedAt, reason: one.endReason }).toEqual({ at: other.endedAt, reason: other.endReason });
  return { at: one.endedAt, reason: one.endReason };
}

describe('the end that stands', () => {
  it("an end-call's own room_finished (stamped to the whole second before it) keeps the call ended_by_api", () => {
    expect(both(ended('api', T0 + 5_400, 'ended_by_api'), finished(T0 + 5_000))).toEqual({ at: T0 + 5_400, reason: 'ended_by_api' });
    expect(both(ended('api', T0 + 5_400, 'ended_by_api'), finished(T0 + 7_000))).toEqual({ at: T0 + 5_400, reason: 'ended_by_api' });
  });

  it('a room that had finished well before the API ended it stays room_finished, at its time', () => {
    expect(both(ended('api', T0 + 9_000, 'ended_by_api'), finished(T0 + 5_000))).toEqual({ at: T0 + 5_000, reason: 'room_finished' });
  });

  it("LiveKit's room_finished replaces an inferred superseded end, whatever the times", () => {
    expect(both(ended('sup', T0 + 2_000, 'superseded'), finished(T0 + 30_000))).toEqual({ at: T0 + 30_000, reason: 'room_finished' });
  });

  it('two ends at the same time give the same result in either order', () => {
    expect(both(ended('a', T0 + 1_000, 'stale'), ended('b', T0 + 1_000, 'reconciled'))).toEqual({ at: T0 + 1_000, reason: 'reconciled' });
  });
});
