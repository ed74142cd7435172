/**
 * The agent worker's event contract: `POST /v2/api/active-calls/{roomName}/events` with `{"events": [...]}`.
 * Each event carries a client-chosen `id` (the idempotency key: resending it is safe) and `createdAt`
 * (epoch ms, the worker's clock; it orders transcript turns).
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

export const agentEventsBodySchema = z.object({ events: z.array(agentEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }).strict();

export type AgentEvent = z.infer<typeof agentEventSchema>;

/** Agent ids are the client's; scoping them by room keeps two rooms' "turn-1" apart. */
export function toCallEvent(roomName: string, e: AgentEvent): CallEvent {
  const id = `agent:${roomName}:${e.id}`;
  switch (e.type) {
    case 'transcript':
      return { type: 'transcript', id, at: e.createdAt, role: e.role, content: e.content };
    case 'transfer_requested':
      return { type: 'transfer_requested', id, at: e.createdAt, reason: e.reason };
    case 'customer_info':
      return { type: 'customer_info', id, at: e.createdAt, name: e.name ?? null, phone: e.phone ?? null };
  }
}
