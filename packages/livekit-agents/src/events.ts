/**
 * What the bridge posts to livecalls: the agent events of `POST /v2/api/active-calls/{roomName}/events`.
 * Every event has `id` (the idempotency key within the room: a retry resends it and livecalls applies it
 * once) and `createdAt` (epoch ms). Durations are in ms, all numbers finite and >= 0.
 */

export interface TurnMetrics {
  e2eMs?: number;
  llmTtftMs?: number;
  ttsTtfbMs?: number;
  endOfTurnDelayMs?: number;
  transcriptionDelayMs?: number;
}

export type AgentStateName = 'initializing' | 'idle' | 'listening' | 'thinking' | 'speaking';
export type CustomerStateName = 'speaking' | 'listening' | 'away';
export type ErrorSource = 'llm' | 'stt' | 'tts' | 'realtime' | 'other';

export interface ToolOutcome {
  name: string;
  ok: boolean;
  durationMs?: number;
  error?: string;
}

/** Session totals so far: cumulative, so livecalls keeps the largest it has seen. */
export interface UsageTotals {
  llmPromptTokens?: number;
  llmCompletionTokens?: number;
  llmCachedTokens?: number;
  ttsCharacters?: number;
  sttSeconds?: number;
}

interface Base {
  id: string;
  createdAt: number;
}

export type LivecallsEvent =
  | (Base & { type: 'transcript'; role: 'agent' | 'customer'; content: string; interrupted?: boolean; metrics?: TurnMetrics })
  | (Base & { type: 'agent_state'; state: AgentStateName })
  | (Base & { type: 'customer_state'; state: CustomerStateName })
  | (Base & { type: 'false_interruption'; resumed?: boolean })
  | (Base & { type: 'tools_executed'; tools: ToolOutcome[] })
  | (Base & ({ type: 'usage' } & UsageTotals))
  | (Base & { type: 'agent_error'; source: ErrorSource; message: string; recoverable: boolean })
  | (Base & { type: 'session_closed'; reason: string })
  | (Base & { type: 'transfer_requested'; reason?: string })
  | (Base & { type: 'customer_info'; name?: string; phone?: string });

export type LivecallsEventType = LivecallsEvent['type'];

/** The request body. `roomSid` is sent when the room's sid is known. */
export interface EventsBody {
  roomSid?: string;
  events: LivecallsEvent[];
}
