/** POST /v2/api/active-calls/{roomName}/listen-token: a supervisor listens in, unseen and unheard. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

const listenTokenResponseSchema = z.object({
  url: z.string().describe('LiveKit URL to connect to (ws:// or wss://)'),
  token: z.string().describe('LiveKit access token'),
  roomName: z.string(),
  expiresAt: z.string().describe('ISO 8601: the token admits a join until then'),
});

export function listenInRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v2/api/active-calls/:roomName/listen-token',
      {
        schema: {
          tags: ['active calls'],
          summary: 'A token to listen in on a live call (livecalls extension)',
          description:
            'A short-lived LiveKit token (LIVECALLS_LISTEN_TOKEN_TTL, default 10 minutes) for a hidden participant that can subscribe and nothing else: no publishing, no data. It does not keep the room open once the caller hangs up. 404: no call in this workspace; 409 `conflict`: the call has ended; 503 `call_control_not_configured` without LIVEKIT_URL.',
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          response: { 200: listenTokenResponseSchema, ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
        },
      },
      async (request) => {
        const { workspaceId, principal } = authOf(request);
        const { roomName } = request.params;
        const t = await services.actions.listenToken(workspaceId, roomName, principal);
        return { url: t.url, token: t.token, roomName, expiresAt: new Date(t.expiresAt).toISOString() };
      },
    );
  };
}
