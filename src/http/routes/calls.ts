/**
 * GET /v2/api/calls/{id}: any call of the workspace by id, active or ended, with its full transcript and the
 * agent's telemetry and alerts.
 * Follows the reference's call-history record where it can (startTime/endTime in epoch seconds).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callType, isActive, isHumanTakeover, ownershipOf, startedAt } from '../../domain/call.ts';
import { agentName, customerName, customerPhone, durationSeconds, iso } from '../../domain/view.ts';
import { AppError } from '../../errors.ts';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, sentimentSchema } from '../schemas.ts';
import { telemetrySchema } from '../telemetry-schema.ts';
import { telemetryView } from '../../domain/telemetry-view.ts';
import type { Services } from '../../services.ts';

const callRecordSchema = z.object({
  id: z.string(),
  roomName: z.string(),
  status: z.enum(['active', 'ended']),
  ownership: z
    .enum(['owned', 'unverified'])
    .describe('owned: LiveKit bound the room to this workspace; unverified: known only from its agent events (cannot be controlled)'),
  type: z.enum(['phone', 'web']),
  aiAgentName: z.string(),
  customerName: z.string(),
  customerPhone: z.string(),
  startTime: z.number().int().describe('epoch seconds'),
  endTime: z.number().int().nullable().describe('epoch seconds; null while active'),
  duration: z.number().int().describe('whole seconds'),
  endReason: z.enum(['room_finished', 'ended_by_api', 'stale', 'superseded', 'reconciled', 'not_owner']).nullable(),
  sentiment: sentimentSchema,
  transferRequested: z.boolean(),
  humanTakeover: z.boolean().describe('true while a human has taken over (remove-agent), until restore-agent'),
  transfer: z
    .object({
      to: z.string(),
      outcome: z.enum(['accepted', 'failed']),
      reason: z.string().nullable().describe("LiveKit's reason when the transfer failed"),
      at: z.string(),
    })
    .nullable()
    .describe('the latest transfer of the caller through the API, as LiveKit answered it'),
  summary: z.string(),
  transcript: z.array(z.object({ role: z.enum(['agent', 'customer']), content: z.string(), createdAt: z.string() })),
  ...telemetrySchema,
});

export function callsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/api/calls/:id',
      {
        schema: {
          tags: ['calls'],
          summary: 'A call by id, active or ended, with its full transcript',
          headers: apiHeadersSchema,
          params: z.object({ id: z.string().regex(/^[0-9a-f]{24}$/, 'call id is 24 hex digits') }),
          response: { 200: callRecordSchema, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const { workspaceId } = authOf(request);
        const call = await services.stores.calls.getCall(workspaceId, request.params.id);
        if (!call) throw new AppError('not_found', 'no such call');
        const transcript = await services.stores.calls.transcript(workspaceId, call.id);
        const { prices } = await services.settings.get(workspaceId);
        return {
          id: call.id,
          roomName: call.roomName,
          status: isActive(call) ? ('active' as const) : ('ended' as const),
          ownership: ownershipOf(call),
          type: callType(call),
          aiAgentName: agentName(call),
          customerName: customerName(call),
          customerPhone: customerPhone(call),
          startTime: Math.floor(startedAt(call) / 1000),
          endTime: call.endedAt === null ? null : Math.floor(call.endedAt / 1000),
          duration: durationSeconds(call, services.clock()),
          endReason: call.endReason,
          sentiment: call.sentiment,
          transferRequested: call.transfer !== null,
          humanTakeover: isHumanTakeover(call),
          transfer: call.transferResult ? { ...call.transferResult.value, at: iso(call.transferResult.at) } : null,
          summary: services.analyzer.insights(transcript).summary,
          transcript: transcript.map((t) => ({ role: t.role, content: t.content, createdAt: iso(t.at) })),
          ...telemetryView(call, prices),
        };
      },
    );
  };
}
