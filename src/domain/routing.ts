/**
 * Which call an event belongs to. A LiveKit room name can be reused once its room has finished, and
 * deliveries come late and out of order, so the room's sid and times decide, never arrival order:
 *  - an event naming a sid (a webhook's room, or the agent worker's claim) goes to the call of that sid; a
 *    call still without one (started from agent events before any webhook) takes the first it sees;
 *  - a sid of another room while a call of the name is active: if that room is older than the active
 *    call's (created before it, or the event happened before the call started), the event belongs to a room
 *    that has already finished: it gets a call of its own, ended ("superseded", at its last event), and the
 *    active call is untouched. If it is newer, the active room's `room_finished` was lost: that call is ended
 *    ("superseded", at its last event) and a new one starts. LiveKit's own `room_finished`, when it comes
 *    after all, replaces the inferred end;
 *  - an event without a sid goes to the active call, else to the last ended call if it happened before that
 *    call ended (plus a grace for clock skew between the agent worker and LiveKit: a late final turn);
 *    otherwise it starts a new call (an agent speaking before `room_started` arrives).
 * Nothing reopens a finished call. An alert goes to the active call it names, or nowhere.
 */
import { roomOf, roomSidOf, routingSidOf, type CallEvent } from './events.ts';
import { routingSidOfCall, startedAt, type Call } from './call.ts';

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

export type Route =
  | { kind: 'existing'; call: Call }
  /** A new call. `supersede`: the active call it replaces. `endedBy`: the newer call it is older than (it starts ended). */
  | { kind: 'new'; supersede: Call | undefined; endedBy?: Call }
  | { kind: 'drop' };

/** Whether the event's room is older than the call's room (another room of the same name). */
export function isOlderRoom(event: CallEvent, call: Call): boolean {
  const created = roomOf(event)?.createdAt ?? null;
  if (created !== null && call.roomCreatedAt !== null) return created < call.roomCreatedAt;
  return event.at < startedAt(call);
}

export function routeEvent(calls: RoomCalls, event: CallEvent): Route {
  // An alert names its call: it never lands on another call of the room name, nor starts one.
  if (event.type === 'alert_fired') return calls.active?.id === event.callId ? { kind: 'existing', call: calls.active } : { kind: 'drop' };
  const sid = routingSidOf(event);
  if (sid) {
    if (calls.bySid) return { kind: 'existing', call: calls.bySid };
    const { active, latestEnded } = calls;
    if (active && !routingSidOfCall(active)) return { kind: 'existing', call: active };
    // A room newer than the event's is known: the event's room had finished by then.
    const newer = [active, latestEnded].find((c) => c !== undefined && routingSidOfCall(c) !== '' && isOlderRoom(event, c));
    if (newer) return { kind: 'new', supersede: undefined, endedBy: newer };
    // Only LiveKit's word (or a request signed with its key pair) ends a call LiveKit bound: an API-key
    // sender's claim of another room goes to that call, as an event without a sid would.
    if (active && active.roomSid && !roomSidOf(event) && !event.roomSidClaim?.signed) return { kind: 'existing', call: active };
    if (active) return { kind: 'new', supersede: active };
    if (event.type === 'call_ended') return { kind: 'drop' };
    return { kind: 'new', supersede: undefined };
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
