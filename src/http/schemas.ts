/** Wire schemas shared by routes: they validate requests, shape responses and generate /openapi.json. */
import { z } from 'zod';
import { ERROR_STATUS } from '../errors.ts';

/**
 * A LiveKit room name as URL path data: 1-128 of letters, digits and `_ - . : @ + = ~`. Anything else
 * (slashes, dots-only, spaces, control or non-ASCII characters) is refused before it reaches a store.
 */
export const roomNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_\-.:@+=~]+$/, 'room name may contain letters, digits and _ - . : @ + = ~')
  .refine((v) => !/^\.+$/.test(v), 'room name cannot be only dots');

export const roomParamsSchema = z.object({ roomName: roomNameSchema });

export const sentimentSchema = z.enum(['positive', 'neutral', 'negative']);

export const errorSchema = z
  .object({
    error: z
      .object({
        code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
        message: z.string(),
        field: z.string().optional(),
      })
      .loose(),
  })
  .describe('Error envelope');

export const apiHeadersSchema = z.object({
  'x-api-key': z.string().optional().describe('API key (required)'),
  'x-workspace-id': z.string().optional().describe('Workspace id the key belongs to (required)'),
});

const isoDate = z.string().describe('ISO 8601, UTC, milliseconds');

export const listParticipantSchema = z.object({ identity: z.string(), isAgent: z.boolean(), joinedAt: isoDate });

export const activeCallItemSchema = z.object({
  id: z.string(),
  roomName: z.string(),
  customerPhone: z.string(),
  customerName: z.string(),
  aiAgentName: z.string(),
  duration: z.number().int().describe('whole seconds since the call started, as of `timestamp`'),
  status: z.literal('active'),
  sentiment: sentimentSchema,
  lastMessage: z.string(),
  transferRequested: z.boolean(),
  type: z.enum(['phone', 'web']),
  participants: z.array(listParticipantSchema),
});

export const listResponseSchema = z.object({
  data: z.array(activeCallItemSchema).describe('active calls, oldest first (start time, then id)'),
  count: z.number().int(),
  timestamp: isoDate,
});

export const detailsResponseSchema = z.object({
  id: z.string(),
  roomName: z.string(),
  customerPhone: z.string(),
  customerName: z.string(),
  aiAgentName: z.string(),
  duration: z.number().int(),
  sentiment: sentimentSchema,
  transcript: z.array(z.object({ role: z.enum(['agent', 'customer']), content: z.string() })),
  participants: z.array(listParticipantSchema.extend({ metadata: z.record(z.string(), z.unknown()) })),
});

export const insightsResponseSchema = z.object({
  sentiment: sentimentSchema,
  topics: z.array(z.string()),
  summary: z.string(),
  suggestions: z.array(z.string()),
});

export const endCallResponseSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  roomName: z.string(),
  endTime: isoDate,
});

/** Standard error responses for a route, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}
