/**
 * Human takeover: POST /v2/api/active-calls/{roomName}/remove-agent mutes every track the AI agent
 * publishes (the reference's route and shape); POST …/restore-agent unmutes them again (livecalls
 * extension). The agent stays in the room either way, so the call never drops.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

const bodySchema = z.object({
  participantIdentity: z.string().min(1).max(256).describe("the AI agent participant's identity"),
});

const removeResponseSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  roomName: z.string(),
  mutedTracks: z.array(z.string()).describe('sids of the tracks that were muted'),
});

const restoreResponseSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  roomName: z.string(),
  unmutedTracks: z.array(z.string()).describe('sids of the tracks that were unmuted'),
});

const errors = errorResponses(400, 401, 403, 404, 409, 429, 502, 503);
const commonDescription =
  ' 400 (`field: body.participantIdentity`) when that identity is not an AI agent participant (kind AGENT) of the call. 404: no call in this workspace; 409: the call has ended. LiveKit unreachable: 503 `livekit_unavailable`, nothing recorded; LiveKit refusing: 502 `livekit_error`. Safe to repeat. The takeover state is `humanTakeover` in `GET /v2/api/calls/{id}`.';

export function takeoverRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v2/api/active-calls/:roomName/remove-agent',
      {
        schema: {
          tags: ['active calls'],
          summary: 'Take the AI agent off the call (human takeover)',
          description:
            'Mutes every track the agent publishes (LiveKit MutePublishedTrack); the agent is not disconnected.' + commonDescription,
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          body: bodySchema,
          response: { 200: removeResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { workspaceId, principal } = authOf(request);
        const { roomName } = request.params;
        const mutedTracks = await services.actions.setAgentMuted(workspaceId, roomName, request.body.participantIdentity, true, principal);
        return { success: true as const, message: 'Agent removed from call', roomName, mutedTracks };
      },
    );

    app.post(
      '/v2/api/active-calls/:roomName/restore-agent',
      {
        schema: {
          tags: ['active calls'],
          summary: 'Give the call back to the AI agent (livecalls extension)',
          description: 'Unmutes every track the agent publishes, ending a human takeover.' + commonDescription,
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          body: bodySchema,
          response: { 200: restoreResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { workspaceId, principal } = authOf(request);
        const { roomName } = request.params;
        const unmutedTracks = await services.actions.setAgentMuted(
          workspaceId,
          roomName,
          request.body.participantIdentity,
          false,
          principal,
        );
        return { success: true as const, message: 'Agent restored to call', roomName, unmutedTracks };
      },
    );
  };
}
