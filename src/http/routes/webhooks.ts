/**
 * Outgoing webhook endpoints of a workspace, and their delivery log:
 * `POST/GET /v2/api/webhooks`, `GET/DELETE /v2/api/webhooks/{id}`, `GET /v2/api/webhooks/{id}/deliveries`.
 * Deliveries are signed per Standard Webhooks with the secret returned once, at registration.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isStorableText } from '../../domain/limits.ts';
import { iso } from '../../domain/view.ts';
import type { Services } from '../../services.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../store/types.ts';
import { nonPublicLiteralOf } from '../../webhooks/address.ts';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/events.ts';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';

const eventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

/** What PostgreSQL cannot store is refused here, not found out as a failed write (see domain/limits.ts). */
const STORABLE = 'may not contain NUL characters or unpaired UTF-16 surrogates';

const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(eventTypeSchema),
  description: z.string().nullable(),
  createdAt: z.string().describe('ISO 8601'),
});

const createdSchema = endpointSchema.extend({
  secret: z.string().describe('Standard Webhooks signing secret (`whsec_…`); shown only in this response'),
});

const deliverySchema = z.object({
  eventId: z.string().describe('the `webhook-id` header: the same on every retry'),
  eventType: eventTypeSchema,
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastResponseStatus: z.number().int().nullable().describe('HTTP status of the last attempt; null when no response came'),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe('when the next attempt is due; null once delivered or failed'),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().nullable(),
  history: z
    .array(
      z.object({
        attempt: z.number().int(),
        at: z.string(),
        responseStatus: z.number().int().nullable(),
        error: z.string().nullable(),
        durationMs: z.number().int(),
      }),
    )
    .describe('every attempt, oldest first'),
});

const idParamsSchema = z.object({ id: z.string().regex(/^ep_[0-9a-f]{16}$/, 'webhook endpoint id is ep_ and 16 hex digits') });

function toView(e: WebhookEndpoint) {
  return { id: e.id, url: e.url, events: e.events, description: e.description, createdAt: iso(e.createdAt) };
}

function toDeliveryView(d: WebhookDelivery) {
  return {
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    nextAttemptAt: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
    history: d.history.map((a) => ({ ...a, at: iso(a.at) })),
  };
}

export function webhooksRoutes(services: Services): FastifyPluginAsyncZod {
  const { allowHttp, allowPrivate } = services.config.webhooks;
  const bodySchema = z.strictObject({
    url: z
      .url({
        protocol: allowHttp ? /^https?$/ : /^https$/,
        error: allowHttp ? 'url must be an http:// or https:// URL' : 'url must be an https:// URL',
      })
      .max(2048)
      .refine(isStorableText, STORABLE)
      .superRefine((url, ctx) => {
        // Names are judged when each delivery connects (they may resolve elsewhere by then); literals now.
        const literal = allowPrivate ? undefined : nonPublicLiteralOf(url);
        if (literal !== undefined) ctx.addIssue({ code: 'custom', message: `url must point at a public address; ${literal} is not one` });
      })
      .describe(
        'receives a POST per event; https:// only, unless LIVECALLS_WEBHOOKS_ALLOW_HTTP=true; public addresses only, unless LIVECALLS_WEBHOOKS_ALLOW_PRIVATE=true',
      ),
    events: z.array(eventTypeSchema).min(1).max(16).describe('the event types to deliver to this endpoint'),
    description: z.string().max(500).refine(isStorableText, STORABLE).optional(),
  });
  const tags = ['webhooks'];

  return async (app) => {
    app.post(
      '/v2/api/webhooks',
      {
        schema: {
          tags,
          summary: 'Register an endpoint for outgoing webhooks',
          description: `Events: ${WEBHOOK_EVENT_TYPES.join(', ')}. Each delivery is a POST signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) with the secret returned here, once. https:// only unless LIVECALLS_WEBHOOKS_ALLOW_HTTP is set. Deliveries go to public addresses only (a loopback, private or link-local address is refused at registration when literal, at delivery when a name resolves to one) unless LIVECALLS_WEBHOOKS_ALLOW_PRIVATE is set. 409: the workspace already has the maximum number of endpoints.`,
          headers: apiHeadersSchema,
          body: bodySchema,
          response: { 201: createdSchema, ...errorResponses(400, 401, 403, 409, 429) },
        },
      },
      async (request, reply) => {
        const endpoint = await services.webhooks.register(authOf(request).workspaceId, request.body);
        return reply.status(201).send({ ...toView(endpoint), secret: endpoint.secret });
      },
    );

    app.get(
      '/v2/api/webhooks',
      {
        schema: {
          tags,
          summary: "The workspace's webhook endpoints, oldest first",
          headers: apiHeadersSchema,
          response: { 200: z.object({ data: z.array(endpointSchema) }), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => ({ data: (await services.webhooks.list(authOf(request).workspaceId)).map(toView) }),
    );

    app.get(
      '/v2/api/webhooks/:id',
      {
        schema: {
          tags,
          summary: 'A webhook endpoint (without its secret)',
          headers: apiHeadersSchema,
          params: idParamsSchema,
          response: { 200: endpointSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => toView(await services.webhooks.get(authOf(request).workspaceId, request.params.id)),
    );

    app.delete(
      '/v2/api/webhooks/:id',
      {
        schema: {
          tags,
          summary: 'Remove a webhook endpoint, with its pending deliveries and delivery log',
          headers: apiHeadersSchema,
          params: idParamsSchema,
          response: { 204: z.null().describe('removed'), ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await services.webhooks.remove(authOf(request).workspaceId, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v2/api/webhooks/:id/deliveries',
      {
        schema: {
          tags,
          summary: "The endpoint's delivery log, newest first",
          headers: apiHeadersSchema,
          params: idParamsSchema,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: { 200: z.object({ data: z.array(deliverySchema) }), ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const list = await services.webhooks.deliveries(authOf(request).workspaceId, request.params.id, request.query.limit);
        return { data: list.map(toDeliveryView) };
      },
    );
  };
}
