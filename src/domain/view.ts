/**
 * The wire shapes of the Active Calls API, derived from a call. Field names and types follow the reference
 * field for field; where the reference says "string" and the value is unknown, the value is "".
 */
import { callType, startedAt, type Call, type CallType, type ParticipantSession, type Sentiment, type Turn } from './call.ts';
import { jsonDepthExceeds } from './limits.ts';

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

/** The call sentiment's score, trend and signals: shown beside the label by details, insights and the stream. */
export interface SentimentDetail {
  sentimentScore: number;
  sentimentTrend: number[];
  sentimentSignals: string[];
}

export interface ActiveCallDetails extends SentimentDetail {
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

/** The furthest a `Date` reaches either side of 1970. */
const DATE_LIMIT_MS = 8_640_000_000_000_000;

/**
 * Times are bounded where they enter (domain/limits.ts); calls stored before they were may still hold one a
 * `Date` cannot, and one such call must not make every read of its workspace fail.
 */
export function iso(ms: number): string {
  return new Date(Number.isFinite(ms) ? Math.min(Math.max(ms, -DATE_LIMIT_MS), DATE_LIMIT_MS) : 0).toISOString();
}

/** Deeper metadata is handed back as its raw string: serialising it again would overflow the stack. */
const MAX_METADATA_DEPTH = 32;

function parseMetadata(raw: string): Record<string, unknown> {
  if (!raw) return {};
  if (jsonDepthExceeds(raw, MAX_METADATA_DEPTH)) return { value: raw };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: handed back as is, below
  }
  return { value: raw };
}

export function sentimentDetail(call: Call): SentimentDetail {
  return { sentimentScore: call.sentimentScore, sentimentTrend: call.sentimentTrend ?? [], sentimentSignals: call.sentimentSignals ?? [] };
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
    ...sentimentDetail(call),
    transcript: transcript.map((t) => ({ role: t.role, content: t.content })),
    participants: presentParticipants(call).map((p) => ({
      identity: p.identity,
      isAgent: p.kind === 'agent',
      metadata: parseMetadata(p.metadata),
      joinedAt: iso(p.joinedAt),
    })),
  };
}

/**
 * An active call's list item, serialised once: every field but `duration` is fixed until the call changes,
 * while `duration` moves every second and the list is asked for far more often than calls change. So the
 * item is kept as the JSON before and after the duration's digits, plus what the list filters and orders on.
 */
export interface ListView {
  id: string;
  /** Start time (ms): the list's order and the base of `duration`. */
  startedAt: number;
  type: CallType;
  aiAgentName: string;
  sentiment: Sentiment;
  transferRequested: boolean;
  /** The item's JSON up to and including `"duration":`. */
  head: string;
  /** The item's JSON after the duration's digits, to its closing brace. */
  tail: string;
}

const DURATION_AT_START = ',"duration":0,';

/** The list view of an active call; `head + durationSeconds(call, now) + tail` is `JSON.stringify(toActiveCallItem(call, now))`. */
export function toListView(call: Call): ListView {
  const start = startedAt(call);
  const item = toActiveCallItem(call, start);
  const json = JSON.stringify(item);
  // Every earlier value is a JSON string, in which a quote is always escaped: the first match is the field.
  const at = json.indexOf(DURATION_AT_START);
  return {
    id: item.id,
    startedAt: start,
    type: item.type,
    aiAgentName: item.aiAgentName,
    sentiment: item.sentiment,
    transferRequested: item.transferRequested,
    head: json.slice(0, at + DURATION_AT_START.length - 2),
    tail: json.slice(at + DURATION_AT_START.length - 1),
  };
}
