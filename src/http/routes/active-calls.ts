/** GET /v2/api/active-calls and GET /v2/api/active-calls/{roomName}. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../auth.ts';
import {
  apiHeadersSchema,
  detailsResponseSchema,
  errorResponses,
  listQuerySchema,
  listResponseSchema,
  roomParamsSchema,
} from '../schemas.ts';
import type { Services } from '../../services.ts';

export function activeCallsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/active-calls',
      {
        schema: {
          tags: ['active calls'],
          summary: "List the workspace's active calls",
          description:
            'Oldest call first (start time, then id). `duration` is whole seconds as of `timestamp`. Filters combine (AND); `count` is every call that matches them. Without `limit` or `cursor` the whole list is sent and there is no `nextCursor`.',
          headers: apiHeadersSchema,
          querystring: listQuerySchema,
          response: { 200: listResponseSchema, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        const body = await services.calls.listBytes(authOf(request).workspaceId, request.query);
        // Already JSON (calls/list.ts): sent as is, past the schema serialiser; the schema above documents it.
        return reply.header('content-type', 'application/json; charset=utf-8').send(body as never);
      },
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
