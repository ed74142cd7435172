/**
 * A workspace's prices: `GET/PUT /v2/api/prices`. They turn a call's usage into its estimated cost
 * (`usage.estimatedCost` in details, stream frames and webhooks).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses } from '../schemas.ts';

const price = z.number().min(0).max(1_000_000);

const pricesSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'currency is an ISO 4217 code such as USD')
      .default('USD'),
    llmPromptPer1k: price.optional().describe('per 1,000 prompt tokens'),
    llmCompletionPer1k: price.optional().describe('per 1,000 completion tokens'),
    ttsPer1kChars: price.optional().describe('per 1,000 synthesised characters'),
    sttPerMinute: price.optional().describe('per minute of transcribed audio'),
  })
  .strict();

export function pricesRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/prices',
      {
        schema: {
          tags: ['alerts'],
          summary: "The workspace's prices (null when none are set)",
          headers: apiHeadersSchema,
          response: { 200: pricesSchema.nullable(), ...errorResponses(401, 403, 429) },
        },
      },
      async (request) => services.stores.tenants.getPrices(authOf(request).workspaceId),
    );

    app.put(
      '/v2/api/prices',
      {
        schema: {
          tags: ['alerts'],
          summary: "Sets the workspace's prices",
          description: 'Usage of a kind without a price is left out of the estimated cost.',
          headers: apiHeadersSchema,
          body: pricesSchema,
          response: { 200: pricesSchema, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { workspaceId } = authOf(request);
        await services.stores.tenants.putPrices(workspaceId, request.body);
        services.settings.setPrices(workspaceId, request.body);
        return request.body;
      },
    );
  };
}
