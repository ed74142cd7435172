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
 * Rules enforced here:
 *  - agent events for a room name that LiveKit has bound to another workspace, while that room is live, are
 *    refused with 404 and nothing is stored (the name may be reused once that room has finished);
 *  - when LiveKit binds a room, unverified calls of that name in other workspaces are dropped; a claim
 *    recorded after that bind re-checks the owner itself, so neither order of the two leaves one behind.
 */
import type { Logger } from 'pino';
import { isActive, ownershipOf } from '../domain/call.ts';
import type { CallEvent } from '../domain/events.ts';
import { AppError } from '../errors.ts';
import type { CallStore, IngestResult, RoomOwner, RoomRegistry } from '../store/types.ts';
import type { Clock } from './service.ts';

/** Bindings this instance already wrote, so a room's every webhook does not write its owner again. */
const KNOWN_BINDINGS = 50_000;

export interface OwnershipDeps {
  rooms: RoomRegistry;
  calls: CallStore;
  clock: Clock;
  log: Logger;
  /** Ends a call here (no LiveKit request): the calls service's `endHere`. */
  end(workspaceId: string, callId: string, roomName: string): Promise<void>;
}

export class RoomOwnership {
  private readonly known = new Map<string, string>();

  constructor(private readonly deps: OwnershipDeps) {}

  owner(roomName: string): Promise<RoomOwner | undefined> {
    return this.deps.rooms.owner(roomName);
  }

  /** 404 when LiveKit bound a live room of that name to another workspace: the caller learns nothing more. */
  async admitAgentEvents(workspaceId: string, roomName: string): Promise<void> {
    const owner = await this.deps.rooms.owner(roomName);
    if (owner && !owner.ended && owner.workspaceId !== workspaceId) throw notFound(roomName);
  }

  /**
   * After agent events were stored: a new unverified call is claimed, then the owner is read again, since
   * LiveKit may have bound the room elsewhere between the admission check and the claim.
   */
  async afterAgentEvents(workspaceId: string, roomName: string, result: IngestResult): Promise<void> {
    const created = result.changes.find((c) => c.before === undefined && isActive(c.after) && ownershipOf(c.after) === 'unverified');
    if (!created) return;
    await this.deps.rooms.claim(roomName, workspaceId, this.deps.clock());
    const owner = await this.deps.rooms.owner(roomName);
    if (owner && !owner.ended && owner.workspaceId !== workspaceId) await this.dropUnverified(workspaceId, roomName);
  }

  /**
   * After LiveKit told us (webhook or ListRooms) that `roomName` of sid `roomSid` belongs to `workspaceId`:
   * binds it (or releases it when the room finished) and drops other workspaces' unverified calls of the name.
   */
  async confirmed(workspaceId: string, roomName: string, roomSid: string | null, event: CallEvent, project: string): Promise<void> {
    if (!roomSid) return;
    if (event.type === 'room_finished') {
      await this.deps.rooms.release(roomName, roomSid);
      this.remember(roomName, `${workspaceId}\u0000${roomSid}\u0000ended`);
      return;
    }
    const key = `${workspaceId}\u0000${roomSid}`;
    const seen = this.known.get(roomName);
    if (seen === key || seen === `${key}\u0000ended`) return;
    const since = 'room' in event && event.room?.createdAt ? event.room.createdAt : event.at;
    await this.deps.rooms.bind(roomName, { workspaceId, roomSid, project, since });
    this.remember(roomName, key);
    for (const claimant of await this.deps.rooms.claimants(roomName)) {
      if (claimant === workspaceId) {
        await this.deps.rooms.unclaim(roomName, claimant);
        continue;
      }
      await this.dropUnverified(claimant, roomName);
    }
  }

  /** Ends `workspaceId`'s active call of the name if it is still unverified; forgets the claim either way. */
  private async dropUnverified(workspaceId: string, roomName: string): Promise<void> {
    const call = await this.deps.calls.getActive(workspaceId, roomName);
    if (call && ownershipOf(call) === 'unverified') {
      await this.deps.end(workspaceId, call.id, roomName);
      this.deps.log.warn(
        { workspaceId, roomName, callId: call.id },
        'unverified call ended: LiveKit bound the room to another workspace (not_owner)',
      );
    }
    await this.deps.rooms.unclaim(roomName, workspaceId);
  }

  private remember(roomName: string, value: string): void {
    this.known.delete(roomName);
    this.known.set(roomName, value);
    if (this.known.size > KNOWN_BINDINGS) this.known.delete(this.known.keys().next().value as string);
  }
}

export function notFound(roomName: string): AppError {
  return new AppError('not_found', `no call in room "${roomName}" in this workspace`);
}
