/**
 * The agent worker's event contract: `POST /v2/api/active-calls/{roomName}/events` with `{"events": [...]}`.
 * Each event carries a client-chosen `id` (the idempotency key: resending it is safe) and `createdAt`
 * (epoch ms, the worker's clock; it orders transcript turns).
 */
import { z } from 'zod';
import type { CallEvent, RoomSidClaim } from '../domain/events.ts';
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

export const agentEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...base,
      type: z.literal('transcript'),
      role: z.enum(['agent', 'customer']),
      content: z.string().trim().min(1).max(10_000).refine(isStorableText, STORABLE),
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
]);

export const agentEventsBodySchema = z
  .object({
    roomSid: z
      .string()
      .regex(/^RM_[A-Za-z0-9]{1,60}$/, 'roomSid must be a LiveKit room sid such as RM_xxxxxxxxxxxx')
      .optional()
      .describe(
        "the LiveKit room's sid (`ctx.room.sid` in the worker): the events go to the call of that room, even when the room name was reused. Recommended",
      ),
    events: z.array(agentEventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
  })
  .strict();

export type AgentEvent = z.infer<typeof agentEventSchema>;

/**
 * Agent ids are the client's: the store deduplicates them within the call they go to (a worker may number
 * turns per call), and the room name in the id keeps turn ids apart across rooms. `claim`: the batch's
 * `roomSid`, proven or not (see RoomSidClaim).
 */
export function toCallEvent(roomName: string, e: AgentEvent, claim?: RoomSidClaim): CallEvent {
  const base = { id: `agent:${roomName}:${e.id}`, at: e.createdAt, ...(claim ? { roomSidClaim: claim } : {}) };
  switch (e.type) {
    case 'transcript':
      return { ...base, type: 'transcript', role: e.role, content: e.content };
    case 'transfer_requested':
      return { ...base, type: 'transfer_requested', reason: e.reason };
    case 'customer_info':
      return { ...base, type: 'customer_info', name: e.name ?? null, phone: e.phone ?? null };
  }
}
