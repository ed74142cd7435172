/**
 * The agent worker's event contract: `POST /v2/api/active-calls/{roomName}/events` with `{"events": [...]}`.
 * Each event carries a client-chosen `id` (the idempotency key: resending it is safe) and `createdAt`
 * (epoch ms, the worker's clock; it orders transcript turns). Besides the conversation (transcript, transfer
 * request, customer info) the worker reports telemetry: states, per-turn latencies, interruptions, tool calls,
 * usage, errors and the session's close. Unknown fields are refused, so a typo is a 400 naming the field.
 */
import { z } from 'zod';
import type { CallEvent } from '../domain/events.ts';
import { MAX_TIME_MS, isStorableText } from '../domain/limits.ts';

export const MAX_EVENTS_PER_BATCH = 100;
/** Epoch ms before 2001-09-09: almost certainly seconds sent by mistake. */
const MIN_EPOCH_MS = 1_000_000_000_000;

const base = {
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:@-]+$/, 'id may contain letters, digits and . _ : @ -'),
  createdAt: z
    .number()
    .int()
    .min(MIN_EPOCH_MS, 'createdAt must be epoch milliseconds')
    .max(MAX_TIME_MS, 'createdAt must be epoch milliseconds before 2100'),
};

/** Free text of an event: refused when it holds what the archive cannot store (see domain/limits.ts). */
const STORABLE = 'text may not contain NUL characters or unpaired UTF-16 surrogates';

const text = (max: number) => z.string().trim().min(1).max(max).refine(isStorableText, STORABLE);
/** A duration the agent measured, ms: finite, not negative, at most ten minutes. */
const durationMs = z.number().min(0).max(600_000);
/** Session totals: whole counts, bounded far beyond any real session. */
const total = z.number().int().min(0).max(1e12);

const metricsSchema = z
  .object({
    e2eMs: durationMs.optional(),
    llmTtftMs: durationMs.optional(),
    ttsTtfbMs: durationMs.optional(),
    endOfTurnDelayMs: durationMs.optional(),
    transcriptionDelayMs: durationMs.optional(),
  })
  .strict();

const toolSchema = z
  .object({
    name: z.string().min(1).max(128).refine(isStorableText, STORABLE),
    ok: z.boolean(),
    durationMs: durationMs.optional(),
    error: z.string().max(500).refine(isStorableText, STORABLE).optional(),
  })
  .strict();

export const agentEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...base,
      type: z.literal('transcript'),
      role: z.enum(['agent', 'customer']),
      content: z.string().trim().min(1).max(10_000).refine(isStorableText, STORABLE),
      interrupted: z.boolean().optional(),
      metrics: metricsSchema.optional(),
    })
    .strict(),
  z
    .object({ ...base, type: z.literal('transfer_requested'), reason: z.string().max(1_000).refine(isStorableText, STORABLE).default('') })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('customer_info'),
      name: z.string().trim().min(1).max(200).refine(isStorableText, STORABLE).optional(),
      phone: z
        .string()
        .regex(/^\+[1-9]\d{1,14}$/, 'phone must be an E.164 number such as +14155551234')
        .optional(),
    })
    .strict()
    .refine((e) => e.name !== undefined || e.phone !== undefined, { message: 'customer_info needs name or phone', path: ['name'] }),
  z
    .object({ ...base, type: z.literal('agent_state'), state: z.enum(['initializing', 'idle', 'listening', 'thinking', 'speaking']) })
    .strict(),
  z.object({ ...base, type: z.literal('customer_state'), state: z.enum(['speaking', 'listening', 'away']) }).strict(),
  z.object({ ...base, type: z.literal('false_interruption'), resumed: z.boolean().optional() }).strict(),
  z.object({ ...base, type: z.literal('tools_executed'), tools: z.array(toolSchema).min(1).max(20) }).strict(),
  z
    .object({
      ...base,
      type: z.literal('usage'),
      llmPromptTokens: total.optional(),
      llmCompletionTokens: total.optional(),
      llmCachedTokens: total.optional(),
      ttsCharacters: total.optional(),
      sttSeconds: z.number().min(0).max(1e9).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('agent_error'),
      source: z.enum(['llm', 'stt', 'tts', 'realtime', 'other']),
      message: text(1_000),
      recoverable: z.boolean(),
    })
    .strict(),
  z.object({ ...base, type: z.literal('session_closed'), reason: text(200) }).strict(),
]);

export const agentEventsBodySchema = z.object({ events: z.array(agentEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }).strict();

export type AgentEvent = z.infer<typeof agentEventSchema>;

/** Agent ids are the client's; scoping them by room keeps two rooms' "turn-1" apart. */
export function toCallEvent(roomName: string, e: AgentEvent): CallEvent {
  const id = `agent:${roomName}:${e.id}`;
  switch (e.type) {
    case 'transcript':
      return {
        type: 'transcript',
        id,
        at: e.createdAt,
        role: e.role,
        content: e.content,
        ...(e.interrupted !== undefined ? { interrupted: e.interrupted } : {}),
        ...(e.metrics && Object.keys(e.metrics).length > 0 ? { metrics: e.metrics } : {}),
      };
    case 'transfer_requested':
      return { type: 'transfer_requested', id, at: e.createdAt, reason: e.reason };
    case 'customer_info':
      return { type: 'customer_info', id, at: e.createdAt, name: e.name ?? null, phone: e.phone ?? null };
    case 'agent_state':
      return { type: 'agent_state', id, at: e.createdAt, state: e.state };
    case 'customer_state':
      return { type: 'customer_state', id, at: e.createdAt, state: e.state };
    case 'false_interruption':
      return { type: 'false_interruption', id, at: e.createdAt, resumed: e.resumed ?? null };
    case 'tools_executed':
      return {
        type: 'tools_executed',
        id,
        at: e.createdAt,
        tools: e.tools.map((t) => ({ name: t.name, ok: t.ok, durationMs: t.durationMs ?? null, error: t.error ?? null })),
      };
    case 'usage': {
      const { id: _id, createdAt: _at, type: _type, ...usage } = e;
      return { type: 'usage', id, at: e.createdAt, usage };
    }
    case 'agent_error':
      return { type: 'agent_error', id, at: e.createdAt, source: e.source, message: e.message, recoverable: e.recoverable };
    case 'session_closed':
      return { type: 'session_closed', id, at: e.createdAt, reason: e.reason };
  }
}
