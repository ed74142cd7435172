/**
 * GET /v2/api/call-history (pages of ended calls), /v2/api/call-history/export (a date range streamed as
 * NDJSON or CSV) and /v2/api/call-history/{id} (one ended call in full). Only the workspace's own calls.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_SEARCH_TERMS, searchTerms } from '../../domain/history.ts';
import { AppError } from '../../errors.ts';
import type { HistoryQuery } from '../../store/types.ts';
import { authOf } from '../auth.ts';
import { exportQuerySchema, historyDetailSchema, historyPageSchema, historyQuerySchema } from '../history-schemas.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';
import type { Services } from '../../services.ts';

function termsOf(search: string): string[] {
  const terms = searchTerms(search);
  const field = 'querystring.search';
  if (terms.length === 0) throw new AppError('invalid_request', `${field}: no words to search for`, { field });
  if (terms.length > MAX_SEARCH_TERMS) throw new AppError('invalid_request', `${field}: at most ${MAX_SEARCH_TERMS} words`, { field });
  return terms;
}

export function callHistoryRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/call-history',
      {
        schema: {
          tags: ['call history'],
          summary: "The workspace's ended calls, newest first, filtered and searched",
          description:
            'Ended calls, newest first (start time, then id), `limit` per page (default 10, at most 100) from `page` 1. Filters combine (AND); `pagination.total` counts every call that matches them. A parameter the API does not know is a 400 naming it.',
          headers: apiHeadersSchema,
          querystring: historyQuerySchema,
          response: { 200: historyPageSchema, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const q = request.query;
        const query: HistoryQuery = {
          ...(q.agent !== undefined ? { agent: q.agent } : {}),
          ...(q.callType ? { callType: q.callType === 'sip' ? ('phone' as const) : ('web' as const) } : {}),
          ...(q.sentiment ? { sentiment: q.sentiment } : {}),
          ...(q.transferRequested !== undefined ? { transferRequested: q.transferRequested } : {}),
          ...(q.endReason ? { endReason: q.endReason } : {}),
          ...(q.dateRange?.from !== undefined ? { from: q.dateRange.from } : {}),
          ...(q.dateRange?.to !== undefined ? { to: q.dateRange.to } : {}),
          ...(q.search !== undefined ? { terms: termsOf(q.search) } : {}),
        };
        return services.history.page(authOf(request).workspaceId, query, q.page ?? 1, q.limit ?? 10);
      },
    );

    app.get(
      '/v2/api/call-history/export',
      {
        schema: {
          tags: ['call history'],
          summary: 'Ended calls that started in a date range, streamed as NDJSON or CSV',
          description:
            'Oldest first. Streamed as it is read (the range is never held in memory): a large range starts at once and takes as long as it takes. NDJSON: one call-history record per line. CSV: a header row, then one row per call; `topics` are joined with "; ", and a text cell starting with = + - @ is prefixed with a single quote so a spreadsheet never runs it as a formula.',
          headers: apiHeadersSchema,
          querystring: exportQuerySchema,
          response: {
            200: z.string().describe('application/x-ndjson or text/csv'),
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request, reply) => {
        const { format = 'ndjson', from = 0, to = services.clock() } = request.query;
        if (to < from) throw new AppError('invalid_request', 'querystring.to: must not be before from', { field: 'querystring.to' });
        const stream = services.history.export(authOf(request).workspaceId, format, from, to);
        return reply
          .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="call-history.${format === 'csv' ? 'csv' : 'ndjson'}"`)
          .send(stream as never);
      },
    );

    app.get(
      '/v2/api/call-history/:id',
      {
        schema: {
          tags: ['call history'],
          summary: 'An ended call with its full transcript and insights',
          description: '`insights` are computed as the live insights route computes them; the sentiment is the call’s final one.',
          headers: apiHeadersSchema,
          params: z.object({ id: z.string().regex(/^[0-9a-f]{24}$/, 'call id is 24 hex digits') }),
          response: { 200: historyDetailSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => services.history.detail(authOf(request).workspaceId, request.params.id),
    );
  };
}
