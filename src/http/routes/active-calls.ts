/** GET /v2/api/active-calls and GET /v2/api/active-calls/{roomName}. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, detailsResponseSchema, errorResponses, listResponseSchema, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

export function activeCallsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/active-calls',
      {
        schema: {
          tags: ['active calls'],
          summary: "List the workspace's active calls",
          description: 'Oldest call first (start time, then id). `duration` is whole seconds as of `timestamp`.',
          headers: apiHeadersSchema,
          response: { 200: listResponseSchema, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => services.calls.list(authOf(request).workspaceId),
    );

    app.get(
      '/v2/api/active-calls/:roomName',
      {
        schema: {
          tags: ['active calls'],
          summary: 'One active call in detail, with its transcript and participants',
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          response: { 200: detailsResponseSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => services.calls.details(authOf(request).workspaceId, request.params.roomName),
    );
  };
}
