/** Liveness, readiness and metrics: unauthenticated, outside rate limits, no workspace data. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../errors.ts';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { within } from '../../store/unavailable.ts';
import { errorSchema } from '../schemas.ts';

const READY_WITHIN_MS = 1_000;
const digest = (text: string) => createHash('sha256').update(text).digest();
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
          description:
            "Unauthenticated unless LIVECALLS_METRICS_TOKEN is set (then `Authorization: Bearer <token>`). Its per-agent series carry every workspace's agent names: on a shared deployment, set the token or keep the route to your monitoring network.",
          produces: ['text/plain'],
          response: { 200: z.string().describe('Prometheus text exposition format'), 401: errorSchema },
        },
      },
      async (request, reply) => {
        // Per-agent series name every workspace's agents: a shared deployment keeps them for its monitoring.
        const token = services.config.metricsToken;
        if (token) {
          const sent = request.headers.authorization ?? '';
          if (!timingSafeEqual(digest(sent), digest(`Bearer ${token}`))) {
            throw new AppError('unauthorized', 'send Authorization: Bearer <LIVECALLS_METRICS_TOKEN>');
          }
        }
        void reply.type(services.metrics.registry.contentType);
        return services.metrics.registry.metrics();
      },
    );
  };
}
