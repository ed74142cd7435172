/**
 * Folding a batch of one room's events into its calls, shared by every backend so they all decide alike.
 * Synchronous and pure: a backend first loads what the batch can touch (the room's active call, its last
 * ended call, the calls of the room sids the batch names), folds, then writes the result atomically.
 */
import { isActive, lastEventOf, newCall, routingSidOfCall, type Call, type Turn } from '../domain/call.ts';
import { roomSidOf, routingSidOf, type CallEvent } from '../domain/events.ts';
import { routeEvent } from '../domain/routing.ts';
import type { CallChange, CallFolder, IngestResult } from './types.ts';

export interface RoomSnapshot {
  active: Call | undefined;
  latestEnded: Call | undefined;
  /** Calls by LiveKit room sid (any room name), for the sids the batch names on LiveKit's word. */
  bySid: ReadonlyMap<string, Call>;
  /**
   * Calls of THIS room name by the sid they go by (LiveKit's, else the worker's claim), for every sid the batch
   * names: where a worker's unproven `roomSid` may lead, and nowhere else.
   */
  byClaim: ReadonlyMap<string, Call>;
}

export interface FoldedBatch extends IngestResult {
  /** Dedupe keys (`seenKey`) of the events applied, to be remembered as seen. */
  appliedIds: string[];
  /** The ids of the events applied, as they came (what IngestResult.appliedIds reports). */
  appliedEventIds: string[];
  /** Transcript turns added, per call id. */
  turns: { callId: string; turn: Turn }[];
}

/** The room sids a batch names on LiveKit's word: what a backend must load into `bySid`. */
export function sidsOf(events: readonly CallEvent[]): string[] {
  return [...new Set(events.map(roomSidOf).filter((s): s is string => s !== null))];
}

/** Every room sid a batch names, LiveKit's or claimed: what a backend must load into `byClaim`. */
export function routingSidsOf(events: readonly CallEvent[]): string[] {
  return [...new Set(events.map(routingSidOf).filter((s): s is string => s !== null))];
}

/**
 * What an event's id is deduplicated by: the id within the call it went to. Ids are the source's (a worker
 * may number its turns "turn-1", "turn-2" in every call), so a reused room name's next call must not see
 * the last call's ids as already applied.
 */
export function seenKey(callId: string, eventId: string): string {
  return `${callId}/${eventId}`;
}

/** The dedupe keys a batch could hit, given the calls it may go to: what a backend must look up. */
export function seenKeysOf(events: readonly CallEvent[], callIds: readonly string[]): string[] {
  return callIds.flatMap((callId) => events.map((e) => seenKey(callId, e.id)));
}

export function foldBatch(
  workspaceId: string,
  roomName: string,
  snapshot: RoomSnapshot,
  events: readonly CallEvent[],
  seen: (eventId: string) => boolean,
  folder: CallFolder,
  now: number,
): FoldedBatch {
  const touched = new Map<string, CallChange>();
  const current = (call: Call | undefined): Call | undefined => (call && touched.get(call.id)?.after) ?? call;
  let live = snapshot.active;
  let latestEnded = snapshot.latestEnded;
  const batchSeen = new Set<string>();
  const appliedIds: string[] = [];
  const appliedEventIds: string[] = [];
  const turns: FoldedBatch['turns'] = [];
  let duplicates = 0;

  const settle = (before: Call | undefined, after: Call): void => {
    const prior = touched.get(after.id);
    touched.set(after.id, { before: prior ? prior.before : before, after });
    if (isActive(after)) live = after;
    else {
      if (live?.id === after.id) live = undefined;
      if (!latestEnded || latestEnded.id === after.id || (after.endedAt ?? 0) >= (latestEnded.endedAt ?? 0)) latestEnded = after;
    }
  };

  /** Ends a call whose room another room of the name replaced (its `room_finished` was lost): at its last event. */
  const superseded = (call: Call, cause: CallEvent): Call =>
    folder.apply(call, { type: 'call_ended', id: `superseded:${cause.id}`, at: lastEventOf(call), reason: 'superseded' }, now);
  let applied = 0;

  for (const event of events) {
    const sid = routingSidOf(event);
    // LiveKit's sid may lead to a call of any room name; a worker's claim only to a call of this one.
    const proven = roomSidOf(event) !== null;
    const touchedWith = (c: CallChange) => routingSidOfCall(c.after) === sid && (proven || c.after.roomName === roomName);
    const bySid = !sid
      ? undefined
      : live && routingSidOfCall(live) === sid
        ? live
        : latestEnded && routingSidOfCall(latestEnded) === sid
          ? latestEnded
          : (current((proven ? snapshot.bySid.get(sid) : undefined) ?? snapshot.byClaim.get(sid)) ??
            [...touched.values()].find(touchedWith)?.after);
    const route = routeEvent({ active: live, bySid, latestEnded }, event);
    if (route.kind === 'drop') {
      applied++;
      continue;
    }
    const before = route.kind === 'existing' ? route.call : undefined;
    const target = before ?? newCall(folder.newCallId(), workspaceId, roomName, event.at, now);
    const key = seenKey(target.id, event.id);
    if (before && (batchSeen.has(key) || seen(key))) {
      duplicates++;
      continue;
    }
    batchSeen.add(key);
    appliedIds.push(key);
    appliedEventIds.push(event.id);
    applied++;
    let next = folder.apply(target, event, now);
    if (route.kind === 'new') {
      if (route.supersede) settle(route.supersede, superseded(route.supersede, event));
      // A room older than one already known had finished by then: its call starts ended.
      if (route.endedBy) next = superseded(next, event);
    }
    settle(before, next);
    // Kept unless the call's transcript was full (MAX_TRANSCRIPT_CHARS in domain/call.ts).
    if (event.type === 'transcript' && (next.turnsDropped ?? 0) === (target.turnsDropped ?? 0))
      turns.push({ callId: next.id, turn: { id: event.id, role: event.role, content: event.content, at: event.at } });
  }
  const finish = folder.finish;
  const changes = [...touched.values()].map((c) => (finish ? { before: c.before, after: finish(c.before, c.after, now) } : c));
  return { applied, duplicates, changes, appliedIds, appliedEventIds, turns };
}
