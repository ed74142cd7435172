/** Liveness, readiness and metrics: unauthenticated, outside rate limits, no workspace data. */
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services.ts';

export function healthRoutes(services: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { config: { rateLimit: false }, schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
      try {
        await services.stores.ping();
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
