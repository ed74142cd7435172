/** Wire schemas of the call history and the statistics (contract D); see the routes for their documentation. */
import { z } from 'zod';
import { BUCKET_MS } from '../domain/stats.ts';
import { insightsResponseSchema, sentimentSchema } from './schemas.ts';

const END_REASONS = ['room_finished', 'ended_by_api', 'stale', 'superseded', 'reconciled', 'not_owner'] as const;

/** Below this a number is epoch seconds, from it epoch milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_BELOW = 100_000_000_000;

/** Epoch seconds, epoch milliseconds (a number or its digits) or an ISO 8601 date; to epoch ms. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < SECONDS_BELOW ? value * 1000 : value;
  if (typeof value !== 'string' || value.length > 64) return undefined;
  if (/^\d{1,16}$/.test(value)) return parseInstant(Number(value));
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

const instant = (what: string) =>
  z
    .string()
    .max(64)
    .transform((v, ctx) => {
      const ms = parseInstant(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected ${what} as an ISO 8601 date, epoch seconds or epoch milliseconds` });
        return z.NEVER;
      }
      return ms;
    });

const dateRange = z
  .string()
  .max(256)
  .transform((v, ctx) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = undefined;
    }
    const obj = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    const extra = obj && Object.keys(obj).find((k) => k !== 'from' && k !== 'to');
    const from = obj?.from === undefined ? undefined : parseInstant(obj.from);
    const to = obj?.to === undefined ? undefined : parseInstant(obj.to);
    if (!obj || extra || (obj.from !== undefined && from === undefined) || (obj.to !== undefined && to === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected JSON {"from", "to"}, each an ISO 8601 date, epoch seconds or epoch milliseconds (either may be left out)',
      });
      return z.NEVER;
    }
    return { from, to };
  });

const page = (max: number, what: string) =>
  z
    .string()
    .regex(/^[0-9]{1,7}$/, `expected a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `expected a whole number from 1 to ${max}`).max(max, `expected a whole number from 1 to ${max}`))
    .describe(what);

/** A query object that refuses unknown parameters one by one (400 naming the parameter), like the active list. */
function strictQuery<T extends z.ZodRawShape>(shape: T) {
  const loose = z.object(shape).loose();
  return loose.superRefine((query, ctx) => {
    for (const key of Object.keys(query)) {
      if (!Object.hasOwn(shape, key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown query parameter' });
    }
  });
}

export const historyQuerySchema = strictQuery({
  page: page(1_000_000, 'page number, from 1 (default 1)').optional(),
  limit: page(100, 'calls per page, 1 to 100 (default 10)').optional(),
  agent: z.string().min(1).max(256).optional().describe('only calls whose `aiAgentName` is exactly this'),
  callType: z.enum(['sip', 'web']).optional().describe('sip: phone calls (a SIP participant); web: the others'),
  sentiment: sentimentSchema.optional(),
  transferRequested: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  endReason: z.enum(END_REASONS).optional(),
  dateRange: dateRange
    .optional()
    .describe(
      'JSON `{"from","to"}`: calls that started at or after `from` and before `to`. Each is an ISO 8601 date, epoch seconds, or epoch milliseconds (a number below 100000000000 is seconds)',
    ),
  search: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('words that must all appear (whole words, any case) in the caller name, the caller number (digits) or the transcript'),
});

export const exportQuerySchema = strictQuery({
  format: z.enum(['ndjson', 'csv']).optional().describe('ndjson (default): one record per line; csv: RFC 4180 with a header row'),
  from: instant('from').optional().describe('calls that started at or after (default: the beginning)'),
  to: instant('to').optional().describe('calls that started before (default: now)'),
});

export const statsQuerySchema = strictQuery({
  from: instant('from').optional().describe('ISO 8601 or epoch ms (default: 24 hours before `to`)'),
  to: instant('to').optional().describe('ISO 8601 or epoch ms (default: now)'),
  bucket: z
    .enum(Object.keys(BUCKET_MS) as ['1m', '5m', '1h', '1d'])
    .optional()
    .describe('bucket size (default 5m); buckets are aligned to UTC'),
  agent: z.string().min(1).max(256).optional().describe('only calls whose `aiAgentName` is exactly this'),
  type: z.enum(['phone', 'web', 'sip']).optional().describe('only phone calls (`phone`, or `sip`) or only web calls'),
});

export const historyRecordSchema = z.object({
  id: z.string(),
  roomName: z.string().describe('the join key with the active calls'),
  startTime: z.number().int().describe('epoch seconds'),
  endTime: z.number().int().describe('epoch seconds'),
  duration: z.number().int().describe('whole seconds'),
  aiAgentName: z.string(),
  customerName: z.string(),
  customerPhone: z.string(),
  callType: z.enum(['sip', 'web']),
  sentiment: sentimentSchema,
  sentimentScore: z.number(),
  topics: z.array(z.string()),
  summary: z.string(),
  endReason: z.enum(END_REASONS).nullable(),
  transferRequested: z.boolean(),
  turnCount: z.number().int().describe('transcript turns'),
});

export const historyPageSchema = z.object({
  data: z.array(historyRecordSchema).describe('newest first (start time, then id)'),
  pagination: z.object({ page: z.number().int(), limit: z.number().int(), total: z.number().int(), totalPages: z.number().int() }),
});

export const historyDetailSchema = historyRecordSchema.extend({
  transcript: z.array(z.object({ role: z.enum(['agent', 'customer']), content: z.string(), createdAt: z.string() })),
  insights: insightsResponseSchema,
});

const mix = z.object({ positive: z.number().int(), neutral: z.number().int(), negative: z.number().int() });
const outcomes = {
  durationP50: z.number().nullable().describe('seconds, of the calls that ended here; null when none did'),
  durationP90: z.number().nullable().describe('seconds, nearest rank'),
  transferRate: z.number().min(0).max(1).nullable().describe('share of the calls that ended here with a transfer requested'),
  sentiment: mix.describe('final sentiment of the calls that ended here'),
};

export const statsResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  bucket: z.enum(['1m', '5m', '1h', '1d']),
  buckets: z.array(
    z.object({
      start: z.string(),
      concurrencyPeak: z.number().int().describe('most calls in progress at once during the bucket (exact)'),
      concurrencyAvg: z.number().describe('calls in progress, averaged over the bucket (up to now)'),
      started: z.number().int(),
      ended: z.number().int(),
      ...outcomes,
    }),
  ),
  totals: z.object({
    calls: z.number().int().describe('calls that started in the range'),
    concurrencyPeak: z.number().int(),
    concurrencyPeakAt: z.string().nullable().describe('when the peak was first reached'),
    ...outcomes,
  }),
  agents: z.array(z.object({ agent: z.string(), calls: z.number().int().describe('calls that started in the range'), ...outcomes })),
});
