/**
 * The signature livecalls accepts from an agent worker without any extra secret: a LiveKit access token
 * signed with the worker's own key pair (issuer = API key), granted for this room only (`video.room`), whose
 * `sha256` claim is the base64 SHA-256 of the exact body, as LiveKit signs its webhooks.
 */
import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';

export function roomSigner(apiKey: string, apiSecret: string, roomName: string, ttl = '5m'): (body: string) => Promise<string> {
  return async (body) => {
    const token = new AccessToken(apiKey, apiSecret, { ttl });
    token.addGrant({ room: roomName });
    token.sha256 = createHash('sha256').update(body).digest('base64');
    return token.toJwt();
  };
}
