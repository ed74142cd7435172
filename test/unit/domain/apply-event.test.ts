/**
 * applyEvent shares what it does not change with its input (turns, stamped values) instead of deep-cloning the
 * call: the input must stay exactly as it was, whatever the event, or a stored "before" state would change.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LIVE_TURNS, MAX_TRANSCRIPT_CHARS, TURN_OVERHEAD_CHARS, applyEvent, newCall, type Call } from '../../../src/domain/call.ts';
import type { CallEvent, RoomRef } from '../../../src/domain/events.ts';
import { person } from '../../helpers/participants.ts';

const T0 = Date.UTC(2026, 0, 1);
const ROOM: RoomRef = { sid: 'RM_a', name: 'call-a', createdAt: T0, agentName: 'Agent', customerName: 'Caller' };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const caller = person('sip-1', 'sip', T0 + 2000);
const events: CallEvent[] = [
  { type: 'room_started', id: 'e1', at: T0, room: ROOM },
  { type: 'participant_joined', id: 'e2', at: T0 + 1000, room: ROOM, participant: person('agent-1', 'agent', T0 + 1000) },
  { type: 'participant_joined', id: 'e3', at: T0 + 2000, room: ROOM, participant: caller },
  // The same participant again: merged into the existing session, which used to be changed in place.
  {
    type: 'participant_joined',
    id: 'e4',
    at: T0 + 2500,
    room: ROOM,
    participant: { ...caller, metadata: '{"a":1}', attributes: { x: 'y' } },
  },
  ...Array.from({ length: MAX_LIVE_TURNS + 5 }, (_, i): CallEvent => ({
    type: 'transcript',
    id: `t${i}`,
    // Every third turn arrives late, so the transcript is re-sorted; past MAX_LIVE_TURNS it is trimmed.
    at: T0 + 3000 + (i % 3 === 2 ? i * 10 - 25 : i * 10),
    role: i % 2 ? 'customer' : 'agent',
    content: `turn ${i}`,
  })),
  { type: 'transfer_requested', id: 'e5', at: T0 + 5000, reason: 'asked for a human' },
  { type: 'customer_info', id: 'e6', at: T0 + 5100, name: 'Pat', phone: '+15550001111' },
  { type: 'agent_muted', id: 'e7', at: T0 + 6000, identity: 'agent-1' },
  { type: 'agent_unmuted', id: 'e8', at: T0 + 7000, identity: 'agent-1' },
  { type: 'transfer_result', id: 'e9', at: T0 + 8000, to: 'tel:+15550001111', outcome: 'accepted', reason: null },
  { type: 'participant_left', id: 'e10', at: T0 + 9000, room: ROOM, participant: caller },
  { type: 'room_finished', id: 'e11', at: T0 + 10_000, room: ROOM },
  { type: 'transcript', id: 'late', at: T0 + 9500, role: 'customer', content: 'a late final turn' },
];

describe('applyEvent', () => {
  it('never changes its input, for every kind of event, and gives what folding a deep copy gives', () => {
    let call: Call = deepFreeze(newCall('c1', 'ws', 'call-a', T0));
    for (const event of events) {
      const snapshot = structuredClone(call);
      // A frozen input throws on any write in place (modules are strict mode).
      const next = applyEvent(call, event, T0 + 60_000);
      expect(call).toEqual(snapshot);
      expect(next).toEqual(applyEvent(structuredClone(snapshot), event, T0 + 60_000));
      call = deepFreeze(next);
    }
    expect(call.participants.find((p) => p.sid === caller.sid)).toMatchObject({ left: true, metadata: '{"a":1}' });
    expect(call.transcript).toHaveLength(MAX_LIVE_TURNS);
    expect(call.endedAt).toBe(T0 + 10_000);
  });
});

describe('a full transcript', () => {
  it('keeps turns up to MAX_TRANSCRIPT_CHARS characters, then counts the rest as dropped', () => {
    // Ids of 8 characters: each turn counts its text, its id and TURN_OVERHEAD_CHARS.
    const size = 10_000 - 8 - TURN_OVERHEAD_CHARS;
    const fits = MAX_TRANSCRIPT_CHARS / 10_000;
    let call: Call = newCall('c1', 'ws', 'call-a', T0);
    for (let i = 0; i < fits + 3; i++) {
      const id = `t${String(i).padStart(7, '0')}`;
      const event: CallEvent = { type: 'transcript', id, at: T0 + i, role: 'customer', content: String(i % 10).repeat(size) };
      call = applyEvent(call, event, T0 + i);
    }
    expect(call.turnCount).toBe(fits);
    expect(call.transcriptChars).toBe(MAX_TRANSCRIPT_CHARS);
    expect(call.turnsDropped).toBe(3);
    expect(call.transcript.at(-1)?.id).toBe(`t${String(fits - 1).padStart(7, '0')}`);
    // Other events still apply.
    call = applyEvent(call, { type: 'transfer_requested', id: 'x', at: T0 + 99_000, reason: 'asked' }, T0 + 99_000);
    expect(call.transfer?.value).toBe('asked');
  });

  it('counts every turn at least TURN_OVERHEAD_CHARS: one-letter turns fill it too', () => {
    let call: Call = newCall('c1', 'ws', 'call-a', T0);
    const perTurn = 1 + 6 + TURN_OVERHEAD_CHARS;
    const fits = Math.floor(MAX_TRANSCRIPT_CHARS / perTurn);
    for (let i = 0; i < fits + 5; i++) {
      const id = `t${String(i).padStart(5, '0')}`;
      call = applyEvent(call, { type: 'transcript', id, at: T0 + i, role: 'customer', content: 'k' }, T0 + i);
    }
    expect(call.turnCount).toBe(fits);
    expect(call.turnsDropped).toBe(5);
  });
});
