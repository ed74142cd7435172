/** Liveness, readiness and metrics: unauthenticated, outside rate limits, no workspace data. */
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.ts';
import { within } from '../../store/unavailable.ts';

const READY_WITHIN_MS = 1_000;

export function healthRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { config: { rateLimit: false }, schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
      try {
        // Within a second, whatever the store does: a load balancer's probe must get a true answer in time.
        await within('the store', READY_WITHIN_MS, services.stores.ping());
        return { status: 'ready' };
      } catch (err) {
        request.log.warn({ err }, 'not ready: store unreachable');
        return reply.status(503).send({ status: 'unavailable', error: { code: 'service_unavailable', message: 'store unreachable' } });
      }
    });
    app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
      void reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    });
  };
}
