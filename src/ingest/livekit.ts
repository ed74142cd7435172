/**
 * LiveKit webhook -> livecalls events. Translation only: which call an event belongs to, and what it
 * does to it, is decided in domain/. The room's metadata names the workspace:
 * `{"workspaceId": "...", "agentName": "...", "customerName": "..."}`.
 */
import { ParticipantInfo_Kind, type ParticipantInfo, type Room, type WebhookEvent } from '@livekit/protocol';
import type { CallEvent, ParticipantKind, ParticipantRef, RoomRef } from '../domain/events.ts';

export interface MappedWebhook {
  roomName: string;
  /** The workspace named in the room's metadata, if any. */
  workspaceId: string | null;
  roomSid: string | null;
  event: CallEvent;
}

export type WebhookMapping = { kind: 'mapped'; value: MappedWebhook } | { kind: 'ignored'; reason: 'unsupported_event' | 'no_room' };

const KINDS: Partial<Record<ParticipantInfo_Kind, ParticipantKind>> = {
  [ParticipantInfo_Kind.STANDARD]: 'standard',
  [ParticipantInfo_Kind.INGRESS]: 'ingress',
  [ParticipantInfo_Kind.EGRESS]: 'egress',
  [ParticipantInfo_Kind.SIP]: 'sip',
  [ParticipantInfo_Kind.AGENT]: 'agent',
  [ParticipantInfo_Kind.CONNECTOR]: 'connector',
  [ParticipantInfo_Kind.BRIDGE]: 'bridge',
};

interface RoomMetadata {
  workspaceId: string | null;
  agentName: string | null;
  customerName: string | null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

export function parseRoomMetadata(raw: string): RoomMetadata {
  let parsed: unknown;
  try {
    parsed = raw ? JSON.parse(raw) : null;
  } catch {
    parsed = null;
  }
  const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  return { workspaceId: str(obj.workspaceId), agentName: str(obj.agentName), customerName: str(obj.customerName) };
}

/** proto int64 seconds/ms (bigint) -> epoch ms; 0 means unset in proto3. */
function ms(seconds: bigint | undefined, millis?: bigint): number | null {
  if (millis && millis > 0n) return Number(millis);
  if (seconds && seconds > 0n) return Number(seconds) * 1000;
  return null;
}

function toRoom(room: Room, meta: RoomMetadata): RoomRef {
  return {
    sid: room.sid,
    name: room.name,
    createdAt: ms(room.creationTime, room.creationTimeMs),
    agentName: meta.agentName,
    customerName: meta.customerName,
  };
}

function toParticipant(p: ParticipantInfo, fallbackAt: number): ParticipantRef {
  return {
    sid: p.sid || `identity:${p.identity}`,
    identity: p.identity,
    name: p.name,
    kind: KINDS[p.kind] ?? 'other',
    joinedAt: ms(p.joinedAt, p.joinedAtMs) ?? fallbackAt,
    metadata: p.metadata,
    attributes: { ...p.attributes },
  };
}

/** Maps one verified webhook. `receivedAt` stands in for a missing `createdAt`. */
export function mapWebhook(webhook: WebhookEvent, receivedAt: number): WebhookMapping {
  const room = webhook.room;
  if (!room?.name) return { kind: 'ignored', reason: 'no_room' };
  const meta = parseRoomMetadata(room.metadata);
  const roomRef = toRoom(room, meta);
  const at = ms(webhook.createdAt) ?? receivedAt;
  // LiveKit event ids are unique per event; retries repeat them.
  const id = webhook.id ? `lk:${webhook.id}` : `lk:${webhook.event}:${room.sid}:${webhook.participant?.sid ?? ''}:${at}`;
  let event: CallEvent;
  switch (webhook.event) {
    case 'room_started':
    case 'room_finished':
      event = { type: webhook.event, id, at, room: roomRef };
      break;
    case 'participant_joined':
    case 'participant_left':
    case 'participant_connection_aborted':
      if (!webhook.participant) return { kind: 'ignored', reason: 'unsupported_event' };
      event = { type: webhook.event, id, at, room: roomRef, participant: toParticipant(webhook.participant, at) };
      break;
    default:
      return { kind: 'ignored', reason: 'unsupported_event' };
  }
  return { kind: 'mapped', value: { roomName: room.name, workspaceId: meta.workspaceId, roomSid: room.sid || null, event } };
}
