/** POST /v2/api/active-calls/{roomName}/transfer: hand the phone caller to a human (a SIP REFER). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../auth.ts';
import { apiHeadersSchema, errorResponses, roomParamsSchema } from '../schemas.ts';
import type { Services } from '../../services.ts';

/** `tel:` with an E.164 number, or a `sip:`/`sips:` URI (user@host, optional port and parameters). */
export const TRANSFER_TARGET =
  /^(tel:\+[1-9]\d{1,14}|sips?:([A-Za-z0-9_.!~*'()&=+$,;?/%-]+@)?[A-Za-z0-9.-]+(:\d{1,5})?(;[A-Za-z0-9_.!~*'()=%;:-]*)?)$/;

const bodySchema = z.object({
  to: z
    .string()
    .max(512)
    .regex(TRANSFER_TARGET, 'to must be a tel: URI with an E.164 number (tel:+14155551234) or a sip: URI (sip:agent@pbx.example.com)'),
});

const transferResponseSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  roomName: z.string(),
  to: z.string(),
  participantIdentity: z.string().describe('the phone caller that was transferred'),
});

export function transferRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v2/api/active-calls/:roomName/transfer',
      {
        schema: {
          tags: ['active calls'],
          summary: 'Transfer the phone caller to a human (livecalls extension)',
          description:
            "Transfers the call's SIP participant (LiveKit TransferSIPParticipant, a SIP REFER); the caller then leaves the room. The outcome is recorded on the call (`transfer` in `GET /v2/api/calls/{id}`): accepted, or failed with LiveKit's reason (then 502 `livekit_error` with `livekitCode` and `reason`). 409 `conflict` for a web call, an ended call, or a caller who already left; 404: no call in this workspace. LiveKit unreachable: 503 `livekit_unavailable`, nothing recorded. Repeating an accepted transfer to the same target answers 200 without a second REFER.",
          headers: apiHeadersSchema,
          params: roomParamsSchema,
          body: bodySchema,
          response: { 200: transferResponseSchema, ...errorResponses(400, 401, 403, 404, 409, 429, 502, 503) },
        },
      },
      async (request) => {
        const { workspaceId, principal } = authOf(request);
        const { roomName } = request.params;
        const { to } = request.body;
        const done = await services.actions.transfer(workspaceId, roomName, to, principal);
        const message = done.alreadyAccepted ? 'Transfer already accepted' : 'Transfer accepted';
        return { success: true as const, message, roomName, to, participantIdentity: done.callerIdentity };
      },
    );
  };
}
