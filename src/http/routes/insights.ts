/** GET /v2/api/active-calls/{roomName}/insights: sentiment, topics, summary, suggestions (computed offline). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, insightsResponseSchema, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

export function insightsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/active-calls/:roomName/insights',
      {
        schema: {
          tags: ['active calls'],
          summary: 'Live insights of an active call',
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          response: { 200: insightsResponseSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => services.calls.insights(authOf(request).workspaceId, request.params.roomName),
    );
  };
}
