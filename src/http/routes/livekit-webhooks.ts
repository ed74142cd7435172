/**
 * POST /webhooks/livekit: LiveKit server webhooks. The raw body is verified as LiveKit's WebhookReceiver does
 * (bad or missing signature: 401, nothing changes). Rooms that name no known workspace are acknowledged
 * (200) and ignored, so LiveKit does not retry them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';

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
          description:
            'Point LiveKit\'s `webhook.urls` here. Signed with LIVEKIT_API_KEY / LIVEKIT_API_SECRET. The room metadata must be JSON naming the workspace: `{"workspaceId": "...", "agentName": "...", "customerName": "..."}`.',
        },
      },
      async (request) => {
        if (!services.signature) {
          throw new AppError('webhooks_not_configured', 'webhooks are not configured: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
        }
        const body = typeof request.body === 'string' ? request.body : '';
        const webhook = await services.signature.webhook(body, request.headers.authorization);
        const outcome = await services.calls.ingestWebhook(webhook);
        return { ok: true, ...outcome };
      },
    );
  };
}
