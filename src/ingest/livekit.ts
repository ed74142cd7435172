/**
 * LiveKit webhook -> livecalls events. Translation only: which call an event belongs to, and what it
 * does to it, is decided in domain/. The room's metadata names the workspace:
 * `{"workspaceId": "...", "agentName": "...", "customerName": "..."}`.
 *
 * Bounds (see domain/limits.ts): a webhook is signed and LiveKit would resend it unchanged, so a bad field is
 * dropped or cleaned rather than the webhook refused. A time outside the accepted range counts as unset (a
 * join falls back to the event's time, the event to the time it was received, the room's creation to
 * unknown); text loses NUL and lone surrogates and is cut to its limit; metadata longer than its limit is
 * dropped. Only a room name that cannot be stored is refused (400): it is the call's key, nothing to fall back to.
 */
import { ParticipantInfo_Kind, type ParticipantInfo, type Room, type WebhookEvent } from '@livekit/protocol';
import type { CallEvent, ParticipantKind, ParticipantRef, RoomRef } from '../domain/events.ts';
import { cleanText, inTimeRange, isStorableText } from '../domain/limits.ts';
import { AppError } from '../errors.ts';

/** Names, identities, sids and ids. */
const MAX_NAME = 256;
/** A participant's metadata string (LiveKit's own default limit is 64 KiB). */
const MAX_METADATA = 65_536;
const MAX_ATTRIBUTES = 64;
const MAX_ATTRIBUTE_VALUE = 4_096;

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
  if (typeof value !== 'string') return null;
  const text = cleanText(value, MAX_NAME).trim();
  return text === '' ? null : text;
}

const name = (value: string) => cleanText(value, MAX_NAME);

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

/** proto int64 seconds/ms (bigint) -> epoch ms; 0 (unset in proto3) or out of range -> null. */
function ms(seconds: bigint | undefined, millis?: bigint): number | null {
  const fromMillis = millis ? Number(millis) : 0;
  if (inTimeRange(fromMillis)) return fromMillis;
  const fromSeconds = seconds ? Number(seconds) * 1000 : 0;
  if (inTimeRange(fromSeconds)) return fromSeconds;
  return null;
}

function attributesOf(p: ParticipantInfo): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(p.attributes).slice(0, MAX_ATTRIBUTES)) {
    out[name(key)] = cleanText(value, MAX_ATTRIBUTE_VALUE);
  }
  return out;
}

function toRoom(room: Room, meta: RoomMetadata): RoomRef {
  return {
    sid: name(room.sid),
    name: room.name,
    createdAt: ms(room.creationTime, room.creationTimeMs),
    agentName: meta.agentName,
    customerName: meta.customerName,
  };
}

function toParticipant(p: ParticipantInfo, fallbackAt: number): ParticipantRef {
  const identity = name(p.identity);
  return {
    sid: name(p.sid) || `identity:${identity}`,
    identity,
    name: name(p.name),
    kind: KINDS[p.kind] ?? 'other',
    joinedAt: ms(p.joinedAt, p.joinedAtMs) ?? fallbackAt,
    metadata: p.metadata.length > MAX_METADATA ? '' : cleanText(p.metadata, MAX_METADATA),
    attributes: attributesOf(p),
  };
}

/** Maps one verified webhook. `receivedAt` stands in for a missing `createdAt`. */
export function mapWebhook(webhook: WebhookEvent, receivedAt: number): WebhookMapping {
  const room = webhook.room;
  if (!room?.name) return { kind: 'ignored', reason: 'no_room' };
  if (room.name.length > MAX_NAME || !isStorableText(room.name)) {
    throw new AppError('invalid_request', 'room.name: a room name of at most 256 characters, without NUL', { field: 'room.name' });
  }
  const meta = parseRoomMetadata(room.metadata);
  const roomRef = toRoom(room, meta);
  const at = ms(webhook.createdAt) ?? receivedAt;
  // LiveKit event ids are unique per event; retries repeat them.
  const id = webhook.id ? `lk:${name(webhook.id)}` : `lk:${webhook.event}:${roomRef.sid}:${name(webhook.participant?.sid ?? '')}:${at}`;
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
  return { kind: 'mapped', value: { roomName: room.name, workspaceId: meta.workspaceId, roomSid: roomRef.sid || null, event } };
}
