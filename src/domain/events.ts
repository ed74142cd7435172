/**
 * The one event vocabulary of livecalls. Every source (LiveKit webhooks, the agent worker, the API itself,
 * the stale-call sweeper) is translated into these before anything is decided. Names reuse LiveKit's
 * webhook event names where one exists.
 *
 * Every event carries `id` (the idempotency key, namespaced by source so ids of different sources never
 * collide) and `at` (when it happened, epoch ms, by the source's clock).
 */

export type Role = 'agent' | 'customer';

export type ParticipantKind = 'standard' | 'ingress' | 'egress' | 'sip' | 'agent' | 'connector' | 'bridge' | 'other';

/** What livecalls keeps of a LiveKit room, from any webhook that carries it. */
export interface RoomRef {
  sid: string;
  name: string;
  /** Room creation time, epoch ms; null when the source did not say. */
  createdAt: number | null;
  /** Parsed room metadata; only the fields livecalls understands. */
  agentName: string | null;
  customerName: string | null;
}

export interface ParticipantRef {
  sid: string;
  identity: string;
  name: string;
  kind: ParticipantKind;
  /** epoch ms */
  joinedAt: number;
  /** The participant's metadata string as LiveKit sent it. */
  metadata: string;
  attributes: Readonly<Record<string, string>>;
}

/**
 * The LiveKit room sid a source that is not LiveKit says an event belongs to (the agent worker knows its
 * room's sid). `proven` only when the request was signed with the LiveKit project's key pair and the sid is
 * the one LiveKit bound the room name to: then it counts as LiveKit's word. Unproven, it only routes the
 * event among the workspace's own calls of the name; it never gives a call a room sid (see call.ts: sids
 * are the proof of ownership).
 */
export interface RoomSidClaim {
  sid: string;
  proven: boolean;
  /**
   * Sent in a request signed with the LiveKit project's key pair (whose holder could sign LiveKit's webhooks
   * too): trusted to say a newer room of the name has begun, even before LiveKit's webhooks tell. An API-key
   * sender's claim never ends a call LiveKit bound.
   */
  signed?: boolean;
}

interface Base {
  id: string;
  at: number;
  roomSidClaim?: RoomSidClaim;
}

export type CallEvent =
  | (Base & { type: 'room_started'; room: RoomRef })
  | (Base & { type: 'room_finished'; room: RoomRef })
  | (Base & { type: 'participant_joined'; room: RoomRef | null; participant: ParticipantRef })
  | (Base & { type: 'participant_left'; room: RoomRef | null; participant: ParticipantRef })
  | (Base & { type: 'participant_connection_aborted'; room: RoomRef | null; participant: ParticipantRef })
  | (Base & { type: 'transcript'; role: Role; content: string; interrupted?: boolean; metrics?: TurnMetrics })
  | (Base & { type: 'transfer_requested'; reason: string })
  | (Base & { type: 'customer_info'; name: string | null; phone: string | null })
  | (Base & { type: 'call_ended'; reason: EndReason })
  /** A supervisor muted the AI agent's tracks (human takeover) or unmuted them again. */
  | (Base & { type: 'agent_muted'; identity: string })
  | (Base & { type: 'agent_unmuted'; identity: string })
  /** What LiveKit answered to a transfer of the phone caller (a SIP REFER). */
  | (Base & { type: 'transfer_result'; to: string; outcome: TransferOutcome; reason: string | null })
  /** Agent telemetry (see domain/telemetry.ts). */
  | (Base & { type: 'agent_state'; state: AgentState })
  | (Base & { type: 'customer_state'; state: CustomerState })
  | (Base & { type: 'false_interruption'; resumed: boolean | null })
  | (Base & { type: 'tools_executed'; tools: ToolRun[] })
  | (Base & { type: 'usage'; usage: Partial<UsageTotals> })
  | (Base & { type: 'agent_error'; source: AgentErrorSource; message: string; recoverable: boolean })
  | (Base & { type: 'session_closed'; reason: string })
  /**
   * A time-based alert rule's condition held (the periodic evaluator saw it). Its id is derived from the call,
   * the rule and the episode, so instances that all see it record it once.
   */
  | (Base & { type: 'alert_fired'; callId: string; ruleId: string; kind: string; message: string; episode: number });

export type CallEventType = CallEvent['type'];

export type AgentState = 'initializing' | 'idle' | 'listening' | 'thinking' | 'speaking';
export type CustomerState = 'speaking' | 'listening' | 'away';
export type AgentErrorSource = 'llm' | 'stt' | 'tts' | 'realtime' | 'other';

/** Per-turn latencies the agent measured, ms. Agent turns usually carry e2e/llm/tts, customer turns the rest. */
export interface TurnMetrics {
  e2eMs?: number;
  llmTtftMs?: number;
  ttsTtfbMs?: number;
  endOfTurnDelayMs?: number;
  transcriptionDelayMs?: number;
}

export interface ToolRun {
  name: string;
  ok: boolean;
  durationMs: number | null;
  error: string | null;
}

/** Session totals so far: cumulative, so the largest value seen is the latest. */
export interface UsageTotals {
  llmPromptTokens: number;
  llmCompletionTokens: number;
  llmCachedTokens: number;
  ttsCharacters: number;
  sttSeconds: number;
}

/**
 * Why a call is no longer active. `reconciled`: LiveKit no longer listed the room. `not_owner`: the call was
 * unverified (known only from this workspace's agent events) and LiveKit bound the room to another workspace.
 */
export type EndReason = 'room_finished' | 'ended_by_api' | 'stale' | 'superseded' | 'reconciled' | 'not_owner';

export type TransferOutcome = 'accepted' | 'failed';

/** The LiveKit room sid an event names on LiveKit's word, if any: a webhook's room, or a proven claim. */
export function roomSidOf(event: CallEvent): string | null {
  if ('room' in event && event.room && event.room.sid) return event.room.sid;
  if (event.roomSidClaim?.proven) return event.roomSidClaim.sid;
  return null;
}

/** The room sid that decides which call an event goes to: LiveKit's word, else what the source claims. */
export function routingSidOf(event: CallEvent): string | null {
  return roomSidOf(event) ?? event.roomSidClaim?.sid ?? null;
}

export function roomOf(event: CallEvent): RoomRef | null {
  return 'room' in event ? event.room : null;
}
