/**
 * Listen-in tokens: a supervisor joins the call's room as a hidden, subscribe-only participant.
 *
 * Why each grant:
 *  - `canSubscribe` only: no publish, no data, no metadata updates, so a listener can never be heard;
 *  - `hidden`: the caller and the agent do not see an extra participant;
 *  - `recorder`: LiveKit closes a room once only "dependent" participants remain (kind AGENT/EGRESS, or the
 *    recorder/agent grant). A plain hidden listener would count as a real participant and keep the room
 *    (and the call) open after the caller hangs up; the recorder grant makes the listener dependent, so the
 *    room closes exactly as it would without them;
 *  - a short TTL: the token only admits a join; it cannot be used long after it was handed out.
 */
import { AccessToken } from 'livekit-server-sdk';

export interface ListenToken {
  /** The URL clients connect to (ws/wss form of LIVEKIT_URL). */
  url: string;
  token: string;
  identity: string;
  /** epoch ms, as signed into the token */
  expiresAt: number;
}

/** The ws(s):// form clients use of the server URL (config keeps the http(s) form for the server API). */
export function clientUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}

/** `exp` of a JWT we just signed (the SDK stamps it from the wall clock). */
function expiryOf(jwt: string): number {
  const payload = jwt.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: number };
  return (claims.exp ?? 0) * 1000;
}

export async function createListenToken(
  creds: { url: string; apiKey: string; apiSecret: string },
  roomName: string,
  identity: string,
  ttlMs: number,
): Promise<ListenToken> {
  const at = new AccessToken(creds.apiKey, creds.apiSecret, {
    identity,
    name: 'Supervisor (listening)',
    ttl: Math.max(1, Math.ceil(ttlMs / 1000)),
  });
  at.addGrant({
    roomJoin: true,
    room: roomName,
    canSubscribe: true,
    canPublish: false,
    canPublishData: false,
    canUpdateOwnMetadata: false,
    hidden: true,
    recorder: true,
  });
  const token = await at.toJwt();
  return { url: clientUrl(creds.url), token, identity, expiresAt: expiryOf(token) };
}
