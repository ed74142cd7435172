/** POST /v2/api/active-calls/{roomName}/end-call: hang up through LiveKit, then end the call here. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, endCallResponseSchema, errorResponses, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

export function endCallRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v2/api/active-calls/:roomName/end-call',
      {
        schema: {
          tags: ['active calls'],
          summary: 'End a live call',
          description:
            "Deletes the LiveKit room (LIVEKIT_URL must be set; otherwise 503 `call_control_not_configured`), then ends the call here. LiveKit is asked first whether the room exists and names this workspace in its metadata (with the room sid the call knows): otherwise 404 and nothing changes, as for a call known only from this workspace's agent events (unverified). Repeating it answers 200 with the same end time. LiveKit unreachable: 503 `livekit_unavailable`, nothing changed.",
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          response: { 200: endCallResponseSchema, ...errorResponses(400, 401, 403, 404, 429, 502, 503) },
        },
      },
      async (request) => {
        const { workspaceId, principal } = authOf(request);
        const { roomName } = request.params;
        const outcome = await services.actions.endCall(workspaceId, roomName, principal);
        request.log.info({ workspaceId, roomName, principal, alreadyEnded: outcome.alreadyEnded }, 'end-call');
        const message = outcome.alreadyEnded
          ? 'Call already ended'
          : outcome.roomWasGone
            ? 'Call ended successfully (the LiveKit room had already closed)'
            : 'Call ended successfully';
        return { success: true as const, message, roomName, endTime: new Date(outcome.call.endedAt ?? services.clock()).toISOString() };
      },
    );
  };
}
