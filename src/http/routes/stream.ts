/**
 * The live stream: `GET /v2/api/active-calls/stream` (Server-Sent Events), `GET /v2/api/active-calls/ws`
 * (WebSocket, same frames as JSON messages), and `POST /v2/api/stream-tokens` (for browsers, whose
 * EventSource cannot send headers). Frames, resume and limits are described in docs/live-stream.md.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { StreamSink } from '../../live/hub.ts';
import { issueStreamToken, STREAM_TOKEN_TTL, verifyStreamToken } from '../../live/tokens.ts';
import type { Services } from '../../services.ts';
import { authOf, requireApiKey } from '../auth.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';

const streamQuerySchema = z.strictObject({
  token: z.string().max(200).optional().describe('A stream token from POST /v2/api/stream-tokens, instead of the API key headers'),
  lastEventId: z.string().max(64).optional().describe('Resume after this event id (SSE clients may send the Last-Event-ID header instead)'),
});

/** How long a client that overflowed gets to take its last frame before its socket is destroyed. */
const OVERFLOW_GRACE_MS = 2_000;

/** onRequest: a stream token in the query, or the API key headers. */
function requireStreamAuth(services: Services) {
  const byKey = requireApiKey(services);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = (request.query as { token?: unknown }).token;
    if (typeof token !== 'string') return byKey(request, reply);
    const { workspaceId, keyId } = await verifyStreamToken(
      services.stores.tenants,
      services.secret.streamTokenKey,
      token,
      services.clock(),
    );
    request.auth = { workspaceId, principal: keyId };
  };
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as { lastEventId?: unknown }).lastEventId;
  const value = typeof query === 'string' ? query : Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined; // anything else: a fresh snapshot
}

function sseSink(reply: FastifyReply): StreamSink {
  const res = reply.raw;
  return {
    send(event, id, data) {
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
    },
    buffered: () => res.writableLength,
    heartbeat() {
      res.write(': heartbeat\n\n');
    },
    close(reason) {
      res.end();
      if (reason === 'overflow') setTimeout(() => res.destroy(), OVERFLOW_GRACE_MS).unref();
    },
  };
}

function wsSink(socket: WebSocket): StreamSink {
  return {
    send(event, id, data) {
      socket.send(`{"event":${JSON.stringify(event)},"id":${id === undefined ? 'null' : JSON.stringify(id)},"data":${data}}`);
    },
    buffered: () => socket.bufferedAmount,
    heartbeat() {
      socket.ping();
    },
    close(reason) {
      if (reason === 'overflow') {
        socket.close(1013, 'too far behind');
        setTimeout(() => socket.terminate(), OVERFLOW_GRACE_MS).unref();
      } else if (reason === 'shutdown') {
        socket.close(1001, 'server shutting down');
      } else {
        socket.close(reason === 'revoked' ? 1008 : 1011, reason === 'revoked' ? 'API key revoked' : 'stream error');
      }
    },
  };
}

export function streamRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    const streamAuth = requireStreamAuth(services);
    // Every stream costs a snapshot and a socket: one workspace cannot hold an instance's streams hostage.
    const refuseOverLimit = (workspaceId: string) => {
      const max = services.config.streamMaxClients;
      if (services.hub.clientsOf(workspaceId) >= max) {
        throw new AppError('rate_limit_exceeded', `this workspace already has ${max} open streams on this server; close one first`);
      }
    };
    const description =
      'Frames: `snapshot` (the list response), `call.started`, `call.updated` (with `changes` and `newTurns`), `call.ended` (each with the agent telemetry beside the list item), `call.alert` (an alert fired or cleared), `overflow`. ' +
      'Authenticate with the API key headers or `?token=` from POST /v2/api/stream-tokens. Resume with `Last-Event-ID` or `?lastEventId=`. See docs/live-stream.md.';

    app.get(
      '/v2/api/active-calls/stream',
      {
        onRequest: streamAuth,
        config: { rateLimit: false },
        // The URL may carry a stream token: keep it out of the routine request log.
        logLevel: 'warn',
        schema: {
          tags: ['live'],
          summary: "Server-Sent Events: the workspace's active calls as they change",
          description,
          headers: apiHeadersSchema,
          querystring: streamQuerySchema,
          produces: ['text/event-stream'],
          response: { 200: z.string().describe('text/event-stream'), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        const { workspaceId, principal } = authOf(request);
        refuseOverLimit(workspaceId);
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx and similar proxies would otherwise buffer the stream
          'x-accel-buffering': 'no',
        });
        reply.raw.write('retry: 3000\n\n');
        const leave = services.hub.connect(workspaceId, principal, sseSink(reply), lastEventIdOf(request));
        reply.raw.on('close', leave);
        // The client may have gone while it was being authenticated: then 'close' has fired already.
        if (reply.raw.destroyed || request.raw.destroyed) leave();
      },
    );

    app.get(
      '/v2/api/active-calls/ws',
      {
        websocket: true,
        onRequest: streamAuth,
        preHandler: async (request, reply) => {
          // A plain GET (no `Upgrade`) would get the plugin's empty 404: it gets the API's error instead.
          if (!request.ws) {
            void reply.header('upgrade', 'websocket');
            throw new AppError(
              'upgrade_required',
              'this is a WebSocket endpoint: connect with Upgrade: websocket, or use /v2/api/active-calls/stream',
            );
          }
          refuseOverLimit(authOf(request).workspaceId);
        },
        config: { rateLimit: false },
        // The URL may carry a stream token: keep it out of the routine request log.
        logLevel: 'warn',
        schema: {
          tags: ['live'],
          summary: 'WebSocket: the same frames as the SSE stream, as JSON messages {event, id, data}',
          description,
          headers: apiHeadersSchema,
          querystring: streamQuerySchema,
        },
      },
      (socket, request) => {
        const { workspaceId, principal } = authOf(request);
        const leave = services.hub.connect(workspaceId, principal, wsSink(socket), lastEventIdOf(request));
        socket.on('close', leave);
        socket.on('error', leave);
        if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) leave();
        // Clients only listen; anything they send is ignored.
      },
    );

    app.post(
      '/v2/api/stream-tokens',
      {
        onRequest: requireApiKey(services),
        schema: {
          tags: ['live'],
          summary: 'A short-lived token that opens the live stream of this workspace (for browsers)',
          headers: apiHeadersSchema,
          body: z
            .strictObject({
              ttlSeconds: z.number().int().min(STREAM_TOKEN_TTL.minS).max(STREAM_TOKEN_TTL.maxS).optional(),
            })
            .nullish(),
          response: {
            201: z.object({ token: z.string(), workspaceId: z.string(), expiresAt: z.string() }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const { principal } = authOf(request);
        const ttl = request.body?.ttlSeconds ?? STREAM_TOKEN_TTL.defaultS;
        const issued = await issueStreamToken(services.stores.tenants, services.secret.streamTokenKey, principal, ttl, services.clock());
        if (issued.workspaceId !== authOf(request).workspaceId)
          throw new AppError('forbidden', 'this API key is not allowed on that workspace');
        return reply.status(201).send({ ...issued, expiresAt: new Date(issued.expiresAt).toISOString() });
      },
    );
  };
}
