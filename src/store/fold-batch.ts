/**
 * Folding a batch of one room's events into its calls, shared by every backend so they all decide alike.
 * Synchronous and pure: a backend first loads what the batch can touch (the room's active call, its last
 * ended call, the calls of the room sids the batch names), folds, then writes the result atomically.
 */
import { isActive, newCall, type Call, type Turn } from '../domain/call.ts';
import { roomSidOf, type CallEvent } from '../domain/events.ts';
import { routeEvent } from '../domain/routing.ts';
import type { CallChange, CallFolder, IngestResult } from './types.ts';

export interface RoomSnapshot {
  active: Call | undefined;
  latestEnded: Call | undefined;
  /** Calls by room sid, for the sids named in the batch (absent = no call has that sid). */
  bySid: ReadonlyMap<string, Call>;
}

export interface FoldedBatch extends IngestResult {
  /** Ids of the events applied (to be remembered as seen). */
  appliedIds: string[];
  /** Transcript turns added, per call id. */
  turns: { callId: string; turn: Turn }[];
}

/** The room sids a batch names: what a backend must load into `bySid`. */
export function sidsOf(events: readonly CallEvent[]): string[] {
  return [...new Set(events.map(roomSidOf).filter((s): s is string => s !== null))];
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

  for (const event of events) {
    if (batchSeen.has(event.id) || seen(event.id)) {
      duplicates++;
      continue;
    }
    batchSeen.add(event.id);
    appliedIds.push(event.id);
    const sid = roomSidOf(event);
    const bySid = !sid
      ? undefined
      : live?.roomSid === sid
        ? live
        : latestEnded?.roomSid === sid
          ? latestEnded
          : (current(snapshot.bySid.get(sid)) ?? [...touched.values()].find((c) => c.after.roomSid === sid)?.after);
    const route = routeEvent({ active: live, bySid, latestEnded }, event);
    if (route.kind === 'drop') continue;
    if (route.kind === 'new' && route.supersede) {
      const superseded = { type: 'call_ended', id: `superseded:${event.id}`, at: event.at, reason: 'superseded' } as const;
      settle(route.supersede, folder.apply(route.supersede, superseded, now));
    }
    const before = route.kind === 'existing' ? route.call : undefined;
    const next = folder.apply(before ?? newCall(folder.newCallId(), workspaceId, roomName, event.at, now), event, now);
    settle(before, next);
    if (event.type === 'transcript')
      turns.push({ callId: next.id, turn: { id: event.id, role: event.role, content: event.content, at: event.at } });
  }
  const finish = folder.finish;
  const changes = [...touched.values()].map((c) => (finish ? { before: c.before, after: finish(c.before, c.after, now) } : c));
  return { applied: appliedIds.length, duplicates, changes, appliedIds, turns };
}
