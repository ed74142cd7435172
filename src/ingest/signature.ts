/**
 * LiveKit's request signature: `Authorization: <jwt>` signed with the API secret, issuer = API key, claim
 * `sha256` = base64(sha256(raw body)). Webhooks get the checks of LiveKit's WebhookReceiver (the token verified
 * by the SDK's TokenVerifier); the agent events route accepts the same scheme so a LiveKit agent worker needs
 * no extra secret. Library errors are turned into `unauthorized` here, so handlers never read error text.
 */
import { createHash } from 'node:crypto';
import { TokenVerifier, WebhookEvent, type ClaimGrants } from 'livekit-server-sdk';
import { AppError } from '../errors.ts';

export function bodyDigest(body: string): string {
  return createHash('sha256').update(body).digest('base64');
}

function bare(header: string): string {
  return header.startsWith('Bearer ') ? header.slice(7) : header;
}

export class LiveKitSignature {
  private readonly verifier: TokenVerifier;

  constructor(apiKey: string, apiSecret: string) {
    this.verifier = new TokenVerifier(apiKey, apiSecret);
  }

  /**
   * A verified, decoded LiveKit webhook: the checks of the SDK's WebhookReceiver.receive (a token signed with our
   * key pair and unexpired, whose `sha256` claim is the body's digest), then the same decoding. The digest is
   * computed here, synchronously: the SDK's Web Crypto digest is a thread-pool job whose hand-offs cost more
   * than the hashing itself, on every webhook.
   */
  async webhook(body: string, authorization: string | undefined): Promise<WebhookEvent> {
    if (!authorization) throw new AppError('unauthorized', 'missing Authorization header (LiveKit webhook signature)');
    await this.verify(body, authorization);
    let json: unknown;
    try {
      // Parsed only after the signature and body hash were accepted.
      json = JSON.parse(body);
    } catch (err) {
      throw new AppError('invalid_json', 'webhook body is not valid JSON', { cause: err });
    }
    try {
      return WebhookEvent.fromJson(json as Parameters<typeof WebhookEvent.fromJson>[0], { ignoreUnknownFields: true });
    } catch (err) {
      throw new AppError('invalid_request', 'webhook body is not a LiveKit webhook event', { cause: err });
    }
  }

  /** Checks a LiveKit-style signature over any body; resolves to the token's claims. */
  async verify(body: string, authorization: string): Promise<ClaimGrants> {
    let claims: ClaimGrants;
    try {
      claims = await this.verifier.verify(bare(authorization));
    } catch (err) {
      throw new AppError('unauthorized', 'invalid LiveKit signature', { cause: err });
    }
    if (claims.sha256 !== bodyDigest(body)) throw new AppError('unauthorized', 'signature does not match the body');
    return claims;
  }
}
