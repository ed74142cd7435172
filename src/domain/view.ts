/**
 * The wire shapes of the Active Calls API, derived from a call. Field names and types follow the reference
 * field for field; where the reference says "string" and the value is unknown, the value is "".
 */
import { callType, startedAt, type Call, type ParticipantSession, type Sentiment, type Turn } from './call.ts';

export interface ListParticipant {
  identity: string;
  isAgent: boolean;
  joinedAt: string;
}

export interface ActiveCallItem {
  id: string;
  roomName: string;
  customerPhone: string;
  customerName: string;
  aiAgentName: string;
  duration: number;
  status: 'active';
  sentiment: Sentiment;
  lastMessage: string;
  transferRequested: boolean;
  type: 'phone' | 'web';
  participants: ListParticipant[];
}

export interface DetailParticipant extends ListParticipant {
  metadata: Record<string, unknown>;
}

export interface ActiveCallDetails {
  id: string;
  roomName: string;
  customerPhone: string;
  customerName: string;
  aiAgentName: string;
  duration: number;
  sentiment: Sentiment;
  transcript: { role: Turn['role']; content: string }[];
  participants: DetailParticipant[];
}

export const PHONE_ATTRIBUTE = 'sip.phoneNumber';
export const AGENT_NAME_ATTRIBUTE = 'lk.agent.name';

/** Participants in the room now (joined and not left), one per identity, in order of joining. */
export function presentParticipants(call: Call): ParticipantSession[] {
  const byIdentity = new Map<string, ParticipantSession>();
  for (const p of call.participants) if (!p.left) byIdentity.set(p.identity, p);
  return [...byIdentity.values()].sort((a, b) => a.joinedAt - b.joinedAt);
}

export function agentName(call: Call): string {
  if (call.agentName) return call.agentName.value;
  const agent = call.participants.find((p) => p.kind === 'agent');
  return agent?.attributes[AGENT_NAME_ATTRIBUTE] ?? agent?.name ?? '';
}

export function customerName(call: Call): string {
  return call.customerName?.value ?? call.roomCustomerName?.value ?? '';
}

export function customerPhone(call: Call): string {
  if (call.customerPhone) return call.customerPhone.value;
  const sip = call.participants.find((p) => p.kind === 'sip' && p.attributes[PHONE_ATTRIBUTE]);
  return sip?.attributes[PHONE_ATTRIBUTE] ?? '';
}

/** Whole seconds from the call's start to `now` (or to its end, if it ended before). */
export function durationSeconds(call: Call, now: number): number {
  const until = call.endedAt !== null ? Math.min(call.endedAt, now) : now;
  return Math.max(0, Math.floor((until - startedAt(call)) / 1000));
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseMetadata(raw: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: handed back as is, below
  }
  return { value: raw };
}

export function toActiveCallItem(call: Call, now: number): ActiveCallItem {
  return {
    id: call.id,
    roomName: call.roomName,
    customerPhone: customerPhone(call),
    customerName: customerName(call),
    aiAgentName: agentName(call),
    duration: durationSeconds(call, now),
    status: 'active',
    sentiment: call.sentiment,
    lastMessage: call.transcript.at(-1)?.content ?? '',
    transferRequested: call.transfer !== null,
    type: callType(call),
    participants: presentParticipants(call).map((p) => ({
      identity: p.identity,
      isAgent: p.kind === 'agent',
      joinedAt: iso(p.joinedAt),
    })),
  };
}

export function toActiveCallDetails(call: Call, transcript: readonly Turn[], now: number): ActiveCallDetails {
  return {
    id: call.id,
    roomName: call.roomName,
    customerPhone: customerPhone(call),
    customerName: customerName(call),
    aiAgentName: agentName(call),
    duration: durationSeconds(call, now),
    sentiment: call.sentiment,
    transcript: transcript.map((t) => ({ role: t.role, content: t.content })),
    participants: presentParticipants(call).map((p) => ({
      identity: p.identity,
      isAgent: p.kind === 'agent',
      metadata: parseMetadata(p.metadata),
      joinedAt: iso(p.joinedAt),
    })),
  };
}
