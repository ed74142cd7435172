/** Liveness, readiness and metrics: unauthenticated, outside rate limits, no workspace data. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { within } from '../../store/unavailable.ts';

const READY_WITHIN_MS = 1_000;
const open = { security: [] as Record<string, string[]>[], tags: ['operations'] };

export function healthRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        config: { rateLimit: false },
        schema: { ...open, summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      {
        config: { rateLimit: false },
        schema: {
          ...open,
          summary: 'Readiness: the store answers (within 1 s, whatever it does)',
          response: {
            200: z.object({ status: z.literal('ready') }),
            503: z.object({
              status: z.literal('unavailable'),
              error: z.object({ code: z.literal('service_unavailable'), message: z.string() }),
            }),
          },
        },
      },
      async (request, reply) => {
        try {
          // Within a second, whatever the store does: a load balancer's probe must get a true answer in time.
          await within('the store', READY_WITHIN_MS, services.stores.ping());
          return { status: 'ready' as const };
        } catch (err) {
          request.log.warn({ err }, 'not ready: store unreachable');
          return reply
            .status(503)
            .send({ status: 'unavailable' as const, error: { code: 'service_unavailable' as const, message: 'store unreachable' } });
        }
      },
    );
    app.get(
      '/metrics',
      {
        config: { rateLimit: false },
        schema: {
          ...open,
          summary: 'Prometheus metrics (text exposition format); see docs/operations.md',
          produces: ['text/plain'],
          response: { 200: z.string().describe('Prometheus text exposition format') },
        },
      },
      async (_request, reply) => {
        void reply.type(services.metrics.registry.contentType);
        return services.metrics.registry.metrics();
      },
    );
  };
}
