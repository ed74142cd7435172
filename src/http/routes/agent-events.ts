/** POST /v2/api/active-calls/{roomName}/events: transcript turns and call facts from the agent worker. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agentEventsBodySchema, toCallEvent } from '../../ingest/agent.ts';
import { authOf, requireAgent } from '../auth.ts';
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
          description:
            'Authenticate with `x-api-key` + `x-workspace-id`, or with a LiveKit-style signature (`Authorization: <jwt>` signed with LIVEKIT_API_SECRET, claim `sha256` = base64 SHA-256 of the body) plus `x-workspace-id`. Each event `id` is an idempotency key within the room; resending is safe. 202 once the events are durable.',
          params: roomParamsSchema,
          body: agentEventsBodySchema,
          response: {
            202: z.object({ applied: z.number().int(), duplicates: z.number().int() }),
            ...errorResponses(400, 401, 403, 413, 415),
          },
        },
      },
      async (request, reply) => {
        const { workspaceId } = authOf(request);
        const { roomName } = request.params;
        const events = request.body.events.map((e) => toCallEvent(roomName, e));
        const result = await services.calls.ingest(workspaceId, roomName, events, 'agent');
        return reply.status(202).send({ applied: result.applied, duplicates: result.duplicates });
      },
    );
  };
}
