/**
 * POST /webhooks/livekit: LiveKit server webhooks. The raw body is verified as LiveKit's WebhookReceiver does
 * (bad or missing signature: 401, nothing changes). Rooms that name no known workspace are acknowledged
 * (200) and ignored, so LiveKit does not retry them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { errorResponses } from '../schemas.ts';

const outcomeSchema = z.object({
  ok: z.literal(true),
  status: z.enum(['applied', 'duplicate', 'ignored']).describe('`ignored`: acknowledged so LiveKit does not retry, but not applied'),
  reason: z.string().optional().describe('why an event was ignored, e.g. `unknown_workspace`'),
  roomName: z.string().optional(),
});

export function livekitWebhookRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    // This scope keeps the body as the exact string LiveKit signed.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser(['application/webhook+json', 'application/json'], { parseAs: 'string' }, (_req, body, done) => {
      done(null, body);
    });

    app.post(
      '/webhooks/livekit',
      {
        config: { rateLimit: false },
        schema: {
          tags: ['ingest'],
          summary: 'LiveKit server webhooks',
          // LiveKit's own signature, not an API key.
          security: [{ livekit: [] }],
          response: { 200: outcomeSchema, ...errorResponses(400, 401, 413, 415, 503) },
          description:
            'Point LiveKit\'s `webhook.urls` here. Signed with LIVEKIT_API_KEY / LIVEKIT_API_SECRET, or with the key pair of a workspace\'s own LiveKit project (`livecalls workspaces set-livekit`); a project only reaches the workspaces it serves. The room metadata must be JSON naming the workspace: `{"workspaceId": "...", "agentName": "...", "customerName": "..."}`; that is what makes the room the workspace\'s.',
        },
      },
      async (request) => {
        const body = typeof request.body === 'string' ? request.body : '';
        const authorization = request.headers.authorization;
        // Verified with the secret of the API key the token names: the configuration's, or a workspace's own.
        const project = authorization ? await services.projects.forToken(authorization) : undefined;
        if (!project) {
          if (!services.signature) {
            throw new AppError(
              'webhooks_not_configured',
              'LiveKit webhooks are not configured: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET (until then only `livecalls simulate` is accepted)',
            );
          }
          throw new AppError(
            'unauthorized',
            authorization
              ? 'invalid LiveKit signature: signed by an API key livecalls does not know'
              : 'missing Authorization header (LiveKit webhook signature)',
          );
        }
        const webhook = await project.signature.webhook(body, authorization);
        const outcome = await services.calls.ingestWebhook(webhook, project.apiKey);
        return { ok: true, ...outcome };
      },
    );
  };
}
