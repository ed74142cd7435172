/** POST /v2/api/active-calls/{roomName}/events: transcript turns and call facts from the agent worker. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agentEventsBodySchema, toCallEvent } from '../../ingest/agent.ts';
import { authOf, requireAgent } from '../auth.ts';
import { API_KEY_SECURITY } from '../openapi.ts';
import { errorResponses, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

export function agentEventsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v2/api/active-calls/:roomName/events',
      {
        // After the body is read (a signature covers it), before it is validated (no schema hints to strangers).
        preValidation: requireAgent(services),
        config: { rateLimit: false },
        schema: {
          tags: ['ingest'],
          summary: 'Send agent events (1 to 100) for a call',
          security: [...API_KEY_SECURITY, { livekit: [] }],
          description:
            'Authenticate with `x-api-key` + `x-workspace-id`, or with a LiveKit-style signature bound to this room (`Authorization: <jwt>` signed with the LiveKit API secret, the room grant `video.room` = this room, claim `sha256` = base64 SHA-256 of the body). A signed request goes to the workspace LiveKit bound the room to; `x-workspace-id` is needed only before LiveKit has (the call is then unverified). A room LiveKit bound to another workspace is a 404 and nothing is stored. Each event `id` is an idempotency key within the call; resending is safe. With `roomSid` (the LiveKit room sid), events go to the call of that room even when the room name is reused. 202 once the events are durable.',
          params: roomParamsSchema,
          body: agentEventsBodySchema,
          response: {
            202: z.object({ applied: z.number().int(), duplicates: z.number().int() }),
            ...errorResponses(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      async (request, reply) => {
        const { workspaceId, principal, ownerProven, roomSid: boundSid } = authOf(request);
        const { roomName } = request.params;
        const { roomSid } = request.body;
        // LiveKit's word only when a signed request names the sid LiveKit bound the room to; otherwise it routes.
        const signed = principal.startsWith('livekit:');
        const claim = roomSid ? { sid: roomSid, proven: Boolean(ownerProven && boundSid === roomSid), signed } : undefined;
        const events = request.body.events.map((e) => toCallEvent(roomName, e, claim));
        // Asserted, not proven: refused if LiveKit bound the room elsewhere; a new call of it stays unverified.
        if (!ownerProven) {
          await services.ownership.admitAgentEvents(workspaceId, roomName);
          await services.calls.admitAsserted(workspaceId, roomName);
        }
        const result = await services.calls.ingest(workspaceId, roomName, events, 'agent');
        if (!ownerProven) await services.ownership.afterAgentEvents(workspaceId, roomName, result);
        return reply.status(202).send({ applied: result.applied, duplicates: result.duplicates });
      },
    );
  };
}
