/**
 * Tenancy proven by LiveKit. A room belongs to the workspace its metadata names, as seen in a verified LiveKit
 * webhook or in LiveKit's own ListRooms; nothing a caller sends (an agent event, a header) can make it theirs.
 *
 * A call is in one of two states (`ownershipOf` in domain/call.ts):
 *  - **unverified**: known only from agent events this workspace sent (with its API key, or signed before
 *    LiveKit bound the room). The workspace sees it in its own list; it can never be controlled (end-call,
 *    takeover, listen-in, transfer answer 404), and if LiveKit binds the room name to another workspace it is
 *    ended here with reason `not_owner`. Nothing of it ever reaches the owner's call: every workspace's calls
 *    live in their own key space, so the owner's call only ever holds the owner's events.
 *  - **owned**: LiveKit named this workspace for the room (the call carries the room's sid).
 *
 * Room names are unique only within a LiveKit project, so ownership is kept per (project, room name): a
 * room of another project is another room. Rules enforced here:
 *  - agent events for a room name that LiveKit has bound to another workspace, while that room is live, are
 *    refused with 404 and nothing is stored (the name may be reused once that room has finished);
 *  - when LiveKit binds a room, unverified calls of that name in other workspaces are dropped; a claim
 *    recorded after that bind re-checks the owner itself, so neither order of the two leaves one behind.
 */
import type { Logger } from 'pino';
import { isActive, ownershipOf, type Call } from '../domain/call.ts';
import type { CallEvent } from '../domain/events.ts';
import { AppError } from '../errors.ts';
import type { CallStore, IngestResult, RoomOwner, RoomRegistry } from '../store/types.ts';
import type { Clock } from './service.ts';

/** Bindings this instance already wrote, so a room's every webhook does not write its owner again. */
const KNOWN_BINDINGS = 50_000;
/**
 * How far ahead of our clock a room's creation time may claim to be. A newer room replaces an older one of
 * the same name, so a creation time in the future would hold the name against the rooms that really follow.
 */
const MAX_FUTURE_MS = 60_000;

export interface OwnershipDeps {
  rooms: RoomRegistry;
  calls: CallStore;
  clock: Clock;
  log: Logger;
  /** The LiveKit project (API key) serving a workspace; '' when none is configured. */
  projectOf(workspaceId: string): Promise<string>;
  /** Ends a call here (no LiveKit request): the calls service's `endHere`. */
  end(workspaceId: string, callId: string, roomName: string): Promise<void>;
}

export class RoomOwnership {
  private readonly known = new Map<string, string>();

  constructor(private readonly deps: OwnershipDeps) {}

  /** The live or last binding of the room name in the project. */
  owner(project: string, roomName: string): Promise<RoomOwner | undefined> {
    return this.deps.rooms.owner(project, roomName);
  }

  /**
   * 404 when LiveKit bound a live room of that name, in the workspace's own project, to another workspace:
   * the caller learns nothing more. Rooms of other projects are other rooms, whatever their names.
   */
  async admitAgentEvents(workspaceId: string, roomName: string): Promise<void> {
    const owner = await this.deps.rooms.owner(await this.deps.projectOf(workspaceId), roomName);
    if (owner && !owner.ended && owner.workspaceId !== workspaceId) throw notFound(roomName);
  }

  /**
   * After agent events were stored: a new unverified call is claimed, then the owner is read again, since
   * LiveKit may have bound the room elsewhere between the admission check and the claim.
   */
  async afterAgentEvents(workspaceId: string, roomName: string, result: IngestResult): Promise<void> {
    const created = result.changes.find((c) => c.before === undefined && isActive(c.after) && ownershipOf(c.after) === 'unverified');
    if (!created) return;
    const project = await this.deps.projectOf(workspaceId);
    await this.deps.rooms.claim(project, roomName, workspaceId, this.deps.clock());
    const owner = await this.deps.rooms.owner(project, roomName);
    if (owner && !owner.ended && owner.workspaceId !== workspaceId) await this.dropUnverified(project, workspaceId, roomName);
  }

  /**
   * After LiveKit project `project` told us (webhook or ListRooms) that `roomName` of sid `roomSid` belongs
   * to `workspaceId`: binds it (or releases it when the room finished). Only a binding that took (this room
   * is the name's newest) drops other workspaces' unverified calls of the name: a late event of an older
   * room never does.
   */
  async confirmed(workspaceId: string, roomName: string, roomSid: string | null, event: CallEvent, project: string): Promise<void> {
    if (!roomSid) return;
    const place = `${project}\u0000${roomName}`;
    if (event.type === 'room_finished') {
      await this.deps.rooms.release(project, roomName, roomSid);
      this.known.delete(place);
      return;
    }
    const binding = `${workspaceId}\u0000${roomSid}`;
    if (this.known.get(place) === binding) return;
    const created = 'room' in event && event.room?.createdAt ? event.room.createdAt : event.at;
    const since = Math.min(created, this.deps.clock() + MAX_FUTURE_MS);
    if (!(await this.deps.rooms.bind(project, roomName, { workspaceId, roomSid, since }))) return;
    this.remember(place, binding);
    for (const claimant of await this.deps.rooms.claimants(project, roomName)) {
      if (claimant === workspaceId) await this.deps.rooms.unclaim(project, roomName, claimant);
      else await this.dropUnverified(project, claimant, roomName);
    }
  }

  /** A call ended here (end-call, stale, reconciled): its room no longer holds the name. */
  async callEnded(workspaceId: string, call: Call): Promise<void> {
    if (!call.roomSid) return;
    const project = await this.deps.projectOf(workspaceId);
    await this.deps.rooms.release(project, call.roomName, call.roomSid);
    this.known.delete(`${project}\u0000${call.roomName}`);
  }

  /** Ends `workspaceId`'s active call of the name if it is still unverified; forgets the claim either way. */
  private async dropUnverified(project: string, workspaceId: string, roomName: string): Promise<void> {
    const call = await this.deps.calls.getActive(workspaceId, roomName);
    if (call && ownershipOf(call) === 'unverified') {
      await this.deps.end(workspaceId, call.id, roomName);
      this.deps.log.warn(
        { workspaceId, roomName, callId: call.id },
        'unverified call ended: LiveKit bound the room to another workspace (not_owner)',
      );
    }
    await this.deps.rooms.unclaim(project, roomName, workspaceId);
  }

  private remember(place: string, value: string): void {
    this.known.delete(place);
    this.known.set(place, value);
    if (this.known.size > KNOWN_BINDINGS) this.known.delete(this.known.keys().next().value as string);
  }
}

export function notFound(roomName: string): AppError {
  return new AppError('not_found', `no call in room "${roomName}" in this workspace`);
}
