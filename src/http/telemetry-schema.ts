/** The wire schemas of a call's agent telemetry and alerts (domain/telemetry-view.ts), for responses and OpenAPI. */
import { z } from 'zod';

const latencySchema = z
  .object({ last: z.number(), p50: z.number(), p95: z.number() })
  .nullable()
  .describe('ms, over the most recent samples (at most 30); null before any');

export const alertSchema = z.object({
  id: z.string().describe('the same on every instance: derived from the call, the rule and the episode'),
  ruleId: z.string(),
  kind: z.string(),
  message: z.string(),
  firedAt: z.string(),
  clearedAt: z.string().nullable().describe('when the condition stopped holding; null while it holds'),
});

export const telemetrySchema = {
  agentState: z.enum(['initializing', 'idle', 'listening', 'thinking', 'speaking', 'closed']).nullable(),
  customerState: z.enum(['speaking', 'listening', 'away']).nullable(),
  latency: z.object({
    turns: z.number().int().describe('agent turns that carried any metric'),
    e2e: latencySchema,
    llmTtft: latencySchema,
    ttsTtfb: latencySchema,
    endOfTurnDelay: latencySchema,
    transcriptionDelay: latencySchema,
  }),
  interruptions: z.object({ count: z.number().int(), false: z.number().int() }),
  usage: z.object({
    llmPromptTokens: z.number(),
    llmCompletionTokens: z.number(),
    llmCachedTokens: z.number(),
    ttsCharacters: z.number(),
    sttSeconds: z.number(),
    estimatedCost: z.number().nullable().describe("from the workspace's prices (PUT /v2/api/prices); null when it set none"),
    currency: z.string().nullable(),
  }),
  errors: z.object({
    count: z.number().int(),
    recent: z
      .array(z.object({ at: z.string(), source: z.string(), message: z.string(), recoverable: z.boolean() }))
      .describe('newest last, at most 10'),
  }),
  tools: z.object({
    count: z.number().int(),
    failed: z.number().int(),
    recent: z
      .array(z.object({ at: z.string(), name: z.string(), ok: z.boolean(), durationMs: z.number().nullable() }))
      .describe('newest last, at most 10'),
  }),
  alerts: z.array(alertSchema),
};
