/**
 * No ghost calls: LiveKit may drop webhooks (`room_finished` included), so every `everyMs` the active list
 * is compared with LiveKit's ListRooms:
 *  - an active call whose room LiveKit no longer lists (or lists under another sid: the name was reused)
 *    is ended with reason `reconciled`;
 *  - a listed room whose metadata names a known workspace but has no active call here is picked up, as if
 *    its `room_started` and its participants' `participant_joined` had arrived.
 * A call that saw an event within `QUIET_MS` is left alone: its room may be too new for ListRooms (served by
 * another LiveKit node) or its `room_finished` may be on its way. With several instances sharing a store,
 * a lease lets one of them reconcile at a time; it is held for two periods, so a crashed holder is replaced
 * within two minutes by default.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { WebhookEvent, type Room } from '@livekit/protocol';
import type { Logger } from 'pino';
import type { CallEvent } from '../domain/events.ts';
import { isActive } from '../domain/call.ts';
import type { CallControl } from '../control/livekit.ts';
import type { LiveKitProjects } from '../control/projects.ts';
import { mapWebhook, parseRoomMetadata } from '../ingest/livekit.ts';
import type { IngestResult, Stores } from '../store/types.ts';
import type { CallService, Clock } from './service.ts';
import { periodic } from './periodic.ts';

export const RECONCILE_LEASE = 'reconcile';
export const QUIET_MS = 30_000;
/** Active calls examined per pass; beyond this, the next pass continues. */
const MAX_CALLS = 10_000;

export interface ReconcileResult {
  /** False when another instance holds the lease. */
  ran: boolean;
  ended: number;
  adopted: number;
}

export interface Reconciler {
  readonly holder: string;
  reconcile(): Promise<ReconcileResult>;
  start(): void;
  /** Stops the timer; resolves once a pass in progress has finished (so the stores can close under it). */
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  stores: Stores;
  service: CallService;
  /** Every LiveKit project with call control is reconciled, each for the workspaces it serves. */
  projects: LiveKitProjects;
  clock: Clock;
  everyMs: number;
  log: Logger;
  /** Who holds the lease; unique per process by default. */
  holder?: string;
}

/** The events LiveKit would have sent for a room that is already running. */
function pickupEvents(room: Room, participants: Awaited<ReturnType<CallControl['listParticipants']>>, now: number): CallEvent[] {
  const id = (suffix: string) => `reconcile-${room.sid}${suffix}`;
  const webhooks = [
    new WebhookEvent({ event: 'room_started', id: id(''), createdAt: room.creationTime, room }),
    ...participants.map(
      (p) => new WebhookEvent({ event: 'participant_joined', id: id(`-${p.sid}`), createdAt: p.joinedAt, room, participant: p }),
    ),
  ];
  const events: CallEvent[] = [];
  for (const w of webhooks) {
    const mapped = mapWebhook(w, now);
    if (mapped.kind === 'mapped') events.push(mapped.value.event);
  }
  return events;
}

/**
 * Takes in a room LiveKit lists as its webhooks would have (`room_started`, then each present participant's
 * `participant_joined`), which also binds the room to `workspaceId` (see ./ownership.ts). Used by the
 * reconciler, and wherever ListRooms is asked before the room's webhooks arrived.
 */
export async function adoptListedRoom(
  service: CallService,
  control: CallControl,
  workspaceId: string,
  room: Room,
  project: string,
  now: number,
): Promise<IngestResult> {
  const participants = await control.listParticipants(room.name);
  return service.ingestFromLiveKit(workspaceId, room.name, room.sid, pickupEvents(room, participants, now), project);
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { stores, service, projects, clock, everyMs, log } = deps;
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  async function endGhosts(rooms: Map<string, Room>, now: number, serves: (ws: string) => boolean): Promise<number> {
    let ended = 0;
    for (const { workspaceId, roomName } of await stores.calls.listIdle(now - QUIET_MS, MAX_CALLS)) {
      if (!serves(workspaceId)) continue;
      const call = await stores.calls.getActive(workspaceId, roomName);
      if (!call || call.lastActivityAt >= now - QUIET_MS) continue;
      const room = rooms.get(roomName);
      const gone = !room || (call.roomSid !== '' && room.sid !== '' && room.sid !== call.roomSid);
      if (!gone) continue;
      await service.endHere(workspaceId, call, 'reconciled');
      log.info({ workspaceId, roomName, callId: call.id }, 'call ended: LiveKit no longer lists its room');
      ended++;
    }
    return ended;
  }

  async function adoptUnknown(
    rooms: Map<string, Room>,
    now: number,
    control: CallControl,
    project: string,
    serves: (ws: string) => boolean,
  ): Promise<number> {
    let adopted = 0;
    const known = new Map<string, boolean>();
    for (const room of rooms.values()) {
      const workspaceId = parseRoomMetadata(room.metadata).workspaceId;
      if (!workspaceId || !serves(workspaceId)) continue;
      if (!known.has(workspaceId)) known.set(workspaceId, (await stores.tenants.getWorkspace(workspaceId)) !== undefined);
      if (!known.get(workspaceId)) continue;
      const existing = await stores.calls.getActive(workspaceId, room.name);
      if (existing && (existing.roomSid === '' || existing.roomSid === room.sid)) continue;
      const result = await adoptListedRoom(service, control, workspaceId, room, project, now);
      // A room whose call ended here (end-call racing LiveKit's close) routes to that call and stays ended.
      if (result.changes.some((c) => c.before === undefined && isActive(c.after))) {
        log.info({ workspaceId, roomName: room.name, roomSid: room.sid }, 'call picked up: LiveKit room unknown here');
        adopted++;
      }
    }
    return adopted;
  }

  async function reconcile(): Promise<ReconcileResult> {
    if (!(await stores.tryLease(RECONCILE_LEASE, holder, everyMs * 2, clock()))) return { ran: false, ended: 0, adopted: 0 };
    let ended = 0;
    let adopted = 0;
    const all = await projects.withControl();
    const failures: unknown[] = [];
    // One project that cannot be reached (or answers badly) must not stop the others'.
    for (const { project, serves } of all) {
      try {
        const listed = await project.control.listRooms();
        const rooms = new Map(listed.map((r) => [r.name, r]));
        const now = clock();
        ended += await endGhosts(rooms, now, serves);
        adopted += await adoptUnknown(rooms, now, project.control, project.apiKey, serves);
      } catch (err) {
        failures.push(err);
        log.warn({ err, project: project.apiKey }, 'reconciliation of a LiveKit project failed; the others go on');
      }
    }
    // Every project failed: the caller sees why.
    if (failures.length > 0 && failures.length === all.length) throw failures[0];
    return { ran: true, ended, adopted };
  }

  return {
    holder,
    reconcile,
    ...periodic(reconcile, everyMs, (err) => log.error({ err }, 'reconciliation with LiveKit failed; will retry')),
  };
}
