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

/**
 * Filters and paging of the list. Every parameter is optional; one the API does not know is refused (400,
 * `field` naming it) rather than ignored, so a misspelt filter never silently lists everything.
 */
const listQueryShape = z
  .object({
    type: z.enum(['phone', 'web']).optional().describe('only phone calls (a SIP participant) or only web calls'),
    agent: z.string().min(1).max(256).optional().describe('only calls whose `aiAgentName` is exactly this'),
    sentiment: sentimentSchema.optional().describe('only calls with this sentiment'),
    transferRequested: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('only calls where a transfer to a human was (`true`) or was not (`false`) requested'),
    limit: z
      .string()
      .regex(/^[0-9]{1,4}$/, 'expected a whole number from 1 to 1000')
      .transform(Number)
      .pipe(z.number().int().min(1, 'expected a whole number from 1 to 1000').max(1000, 'expected a whole number from 1 to 1000'))
      .optional()
      .describe('page size, 1 to 1000; the response then carries `nextCursor`'),
    cursor: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('`nextCursor` of the previous page, with the same filters (`limit` may change; without it, the same page size)'),
  })
  // Loose, then refused key by key: a strict object would report them all at the object, naming none.
  .loose();

export const listQuerySchema = listQueryShape.superRefine((query, ctx) => {
  for (const key of Object.keys(query)) {
    if (!Object.hasOwn(listQueryShape.shape, key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown query parameter' });
  }
});

export const listResponseSchema = z.object({
  data: z.array(activeCallItemSchema).describe('active calls, oldest first (start time, then id)'),
  count: z.number().int().describe('every active call that matches the filters (not only this page)'),
  timestamp: isoDate,
  nextCursor: z
    .string()
    .nullable()
    .optional()
    .describe(
      'only when paging (`limit` or `cursor` given): pass it as `cursor` for the next page; null on the last page. Opaque. A call that stays active is listed exactly once across the pages, whatever starts or ends meanwhile',
    ),
});

const sentimentDetailFields = {
  sentimentScore: z.number().describe('how the customer is doing now, -1 (upset) .. 1 (pleased); see docs/sentiment.md'),
  sentimentTrend: z.array(z.number()).describe("the customer's per-turn scores, oldest first, the last 10 at most"),
  sentimentSignals: z.array(z.string()).describe('conversation signals that lowered the score, e.g. agent_cannot_help, escalation'),
};

export const detailsResponseSchema = z.object({
  id: z.string(),
  roomName: z.string(),
  customerPhone: z.string(),
  customerName: z.string(),
  aiAgentName: z.string(),
  duration: z.number().int(),
  sentiment: sentimentSchema,
  ...sentimentDetailFields,
  transcript: z.array(z.object({ role: z.enum(['agent', 'customer']), content: z.string() })),
  participants: z.array(listParticipantSchema.extend({ metadata: z.record(z.string(), z.unknown()) })),
});

export const insightsResponseSchema = z.object({
  sentiment: sentimentSchema,
  ...sentimentDetailFields,
  topics: z.array(z.string()),
  summary: z.string(),
  suggestions: z.array(z.string()),
  topicDetails: z
    .array(z.object({ topic: z.string(), intent: z.string(), confidence: z.number().min(0).max(1) }))
    .describe('the topics in the same order, each with the intent that named it and its confidence (0..1)'),
  state: z.enum(['resolved', 'unresolved', 'transferred', 'waiting', 'in progress']).describe('what has happened in the call so far'),
  source: z
    .enum(['llm', 'offline'])
    .describe(
      'what produced summary, topics, topicDetails, suggestions and state: the configured LLM (LIVECALLS_LLM_URL), or the offline models (the default, and the fallback while there is no fitting LLM result). See docs/llm-insights.md',
    ),
  model: z.string().nullable().describe('the LLM that produced them (LIVECALLS_LLM_MODEL); null when offline'),
  turnsBehind: z
    .number()
    .int()
    .min(0)
    .describe(
      'turns spoken since the transcript the insights were computed from (an LLM result is served up to LIVECALLS_LLM_MAX_LAG_TURNS behind); always 0 offline',
    ),
  generatedAt: z.string().nullable().describe('when the LLM answered (ISO 8601); null when offline (computed for this response)'),
  modelSentiment: sentimentSchema
    .nullable()
    .describe(
      "the LLM's reading of the customer's mood; null when offline. `sentiment` stays the call's own, so the list, details, stream and insights agree",
    ),
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
