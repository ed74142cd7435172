/** GET /v2/api/stats: fleet statistics of the workspace over a time range, in buckets (contract D). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../auth.ts';
import { statsQuerySchema, statsResponseSchema } from '../history-schemas.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';
import { MAX_BUCKETS } from '../../calls/stats.ts';
import type { Services } from '../../services.ts';

const DAY_MS = 86_400_000;

export function statsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/stats',
      {
        schema: {
          tags: ['statistics'],
          summary: 'Concurrency, calls started and ended, durations, transfers and sentiment over time',
          description: `Buckets are aligned to UTC (\`from\` rounded down, \`to\` up); at most ${MAX_BUCKETS} buckets (400 beyond). Concurrency is exact, from the calls' start and end times; active calls count as in progress up to now. Durations, transfer rate and sentiment describe the calls that ended in the bucket. \`agents\`: per \`aiAgentName\`, most calls first.`,
          headers: apiHeadersSchema,
          querystring: statsQuerySchema,
          response: { 200: statsResponseSchema, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const q = request.query;
        const to = q.to ?? services.clock();
        const type = q.type === 'sip' ? 'phone' : q.type;
        return services.stats.stats(authOf(request).workspaceId, {
          from: q.from ?? to - DAY_MS,
          to,
          bucket: q.bucket ?? '5m',
          ...(q.agent !== undefined ? { agent: q.agent } : {}),
          ...(type ? { type } : {}),
        });
      },
    );
  };
}
