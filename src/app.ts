/**
 * buildApp(services): the Fastify instance with its plugins, routes and the one error handler. Never
 * listens (server.ts does; tests use inject()).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AppError } from './errors.ts';
import { requireApiKey } from './http/auth.ts';
import { errorHandlingOptions, httpServerOptions, registerErrorHandling } from './http/error-handler.ts';
import { activeCallsRoutes } from './http/routes/active-calls.ts';
import { alertRulesRoutes } from './http/routes/alert-rules.ts';
import { agentEventsRoutes } from './http/routes/agent-events.ts';
import { callsRoutes } from './http/routes/calls.ts';
import { dashboardRoutes } from './http/routes/dashboard.ts';
import { endCallRoutes } from './http/routes/end-call.ts';
import { healthRoutes } from './http/routes/health.ts';
import { insightsRoutes } from './http/routes/insights.ts';
import { listenInRoutes } from './http/routes/listen-in.ts';
import { livekitWebhookRoutes } from './http/routes/livekit-webhooks.ts';
import { pricesRoutes } from './http/routes/prices.ts';
import { streamRoutes } from './http/routes/stream.ts';
import { takeoverRoutes } from './http/routes/takeover.ts';
import { transferRoutes } from './http/routes/transfer.ts';
import { webhooksRoutes } from './http/routes/webhooks.ts';
import type { Services } from './services.ts';

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // Room names are up to 128 chars; anything near this is hostile.
    // A trailing slash names the same resource (`/v2/api/active-calls/` is the list, not an empty room name).
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: true },
    // Unique across instances and restarts, unlike Fastify's counter; a client's own x-request-id is kept.
    genReqId: () => randomUUID(),
    requestIdHeader: 'x-request-id',
    ...errorHandlingOptions,
    // Node checks header and request timeouts every 30 s by default, so a 15 s headers timeout fired at up to
    // 45 s; checking every second makes the configured timeouts the real ones.
    http: { ...httpServerOptions, connectionsCheckingInterval: 1_000 },
  });
  // Fastify's default text/plain parser would hand a JSON route a string (a 400 about types); refused as 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('auth', undefined);
  app.decorateRequest('rawBody', undefined);
  registerErrorHandling(app);

  // JSON bodies keep their raw text: a LiveKit-style signature covers the exact bytes.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    request.rawBody = text;
    try {
      done(null, text === '' ? undefined : JSON.parse(text));
    } catch (err) {
      done(new AppError('invalid_json', 'request body is not valid JSON', { cause: err }), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'livecalls',
        version: '0.1.0',
        description:
          'Live state of AI voice agent calls on LiveKit. Serves the Active Calls API field for field. Errors: `{"error": {"code", "message", "field"?}}`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          workspace: { type: 'apiKey', in: 'header', name: 'x-workspace-id' },
        },
      },
      security: [{ apiKey: [], workspace: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());

  // Per route pattern, never the raw URL: room names would make the label set unbounded.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(websocket, { options: { maxPayload: 4096 } });
  // Streams end before the server waits for open connections, or shutdown would hang on them.
  app.addHook('preClose', async () => services.hub.closeAll());

  await app.register(healthRoutes(services));
  await app.register(dashboardRoutes());
  await app.register(streamRoutes(services));
  await app.register(livekitWebhookRoutes(services));
  await app.register(agentEventsRoutes(services));
  await app.register(async (api) => {
    api.addHook('onRequest', requireApiKey(services));
    if (config.rateLimitPerMinute > 0) {
      await api.register(rateLimit, {
        max: config.rateLimitPerMinute,
        timeWindow: 60_000,
        hook: 'preHandler',
        keyGenerator: (request) => request.auth?.principal ?? request.ip,
        // With live state in Redis, the count is shared: N instances allow the limit once, not N times. Redis
        // away, requests are not refused for it (they answer 503 on their own store calls).
        ...(services.stores.redis
          ? { redis: services.stores.redis, nameSpace: `${config.redisPrefix}:ratelimit:`, skipOnError: true }
          : {}),
        errorResponseBuilder: (_request, context) =>
          new AppError('rate_limit_exceeded', `Too many requests. Please try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
            extra: { reset_at: new Date(Date.now() + context.ttl).toISOString() },
          }),
      });
    }
    await api.register(activeCallsRoutes(services));
    await api.register(insightsRoutes(services));
    await api.register(endCallRoutes(services));
    await api.register(takeoverRoutes(services));
    await api.register(listenInRoutes(services));
    await api.register(transferRoutes(services));
    await api.register(callsRoutes(services));
    await api.register(webhooksRoutes(services));
    await api.register(alertRulesRoutes(services));
    await api.register(pricesRoutes(services));
  });
  return app;
}
