/**
 * Which call an event belongs to. A LiveKit room name can be reused once its room has finished, and the
 * agent worker only knows the room name, so the room's sid and event times decide:
 *  - an event naming a sid goes to the call of that sid; a call still without a sid (started from agent
 *    events before any webhook) adopts the first sid it sees;
 *  - a new sid while another room of that name is still active means that room's `room_finished` was
 *    lost: the old call is ended ("superseded") and a new one starts;
 *  - an event without a sid goes to the active call, else to the last ended call if it happened before that
 *    call ended (plus a grace for clock skew between the agent worker and LiveKit: a late final turn);
 *    otherwise it starts a new call (an agent speaking before `room_started` arrives).
 * Nothing reopens a finished call. An alert goes to the active call it names, or nowhere.
 */
import { roomSidOf, type CallEvent } from './events.ts';
import type { Call } from './call.ts';

/** How long after a call ended an event without a room sid is still taken as that call's. */
export const LATE_EVENT_GRACE_MS = 60_000;

export interface RoomCalls {
  /** The active call of the room name, if any. */
  active: Call | undefined;
  /** The call whose room sid the event names, if the event names one and such a call exists. */
  bySid: Call | undefined;
  /** The most recently ended call of the room name, if any. */
  latestEnded: Call | undefined;
}

export type Route = { kind: 'existing'; call: Call } | { kind: 'new'; supersede: Call | undefined } | { kind: 'drop' };

export function routeEvent(calls: RoomCalls, event: CallEvent): Route {
  // An alert names its call: it never lands on another call of the room name, nor starts one.
  if (event.type === 'alert_fired') return calls.active?.id === event.callId ? { kind: 'existing', call: calls.active } : { kind: 'drop' };
  const sid = roomSidOf(event);
  if (sid) {
    if (calls.bySid) return { kind: 'existing', call: calls.bySid };
    if (calls.active && !calls.active.roomSid) return { kind: 'existing', call: calls.active };
    return { kind: 'new', supersede: calls.active };
  }
  if (calls.active) return { kind: 'existing', call: calls.active };
  const ended = calls.latestEnded;
  if (ended && ended.endedAt !== null && event.at <= ended.endedAt + LATE_EVENT_GRACE_MS) {
    return { kind: 'existing', call: ended };
  }
  // Ending a call that is not there is a no-op, not a new (already ended) call.
  if (event.type === 'call_ended') return { kind: 'drop' };
  return { kind: 'new', supersede: undefined };
}
