/**
 * Signing requests the way LiveKit does, for the simulator and for agent workers: a JWT signed with the API
 * secret (issuer = API key) whose `sha256` claim is the base64 SHA-256 of the exact body.
 */
import { AccessToken } from 'livekit-server-sdk';
import type { WebhookEvent } from '@livekit/protocol';
import { bodyDigest } from '../ingest/signature.ts';

/**
 * `room`: the room an agent worker's request is for (the `video.room` grant). livecalls requires it on agent
 * events, and applies the request to that room only; webhooks carry none.
 */
export async function signBody(body: string, apiKey: string, apiSecret: string, ttl = '5m', room?: string): Promise<string> {
  const token = new AccessToken(apiKey, apiSecret, { ttl });
  if (room !== undefined) token.addGrant({ room });
  token.sha256 = bodyDigest(body);
  return token.toJwt();
}

/** A webhook as LiveKit posts it: proto3 JSON body and its `Authorization` header. */
export async function signWebhook(
  event: WebhookEvent,
  apiKey: string,
  apiSecret: string,
): Promise<{ body: string; authorization: string }> {
  const body = event.toJsonString();
  return { body, authorization: await signBody(body, apiKey, apiSecret) };
}
