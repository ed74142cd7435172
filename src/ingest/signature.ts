/**
 * LiveKit's request signature: `Authorization: <jwt>` signed with the API secret, issuer = API key, claim
 * `sha256` = base64(sha256(raw body)). Webhooks are checked by LiveKit's own WebhookReceiver; the agent
 * events route accepts the same scheme so a LiveKit agent worker needs no extra secret. Library errors are
 * turned into `unauthorized` here, so handlers never read error text.
 */
import { createHash } from 'node:crypto';
import { TokenVerifier, WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { AppError } from '../errors.ts';

export function bodyDigest(body: string): string {
  return createHash('sha256').update(body).digest('base64');
}

function bare(header: string): string {
  return header.startsWith('Bearer ') ? header.slice(7) : header;
}

export class LiveKitSignature {
  private readonly receiver: WebhookReceiver;
  private readonly verifier: TokenVerifier;

  constructor(apiKey: string, apiSecret: string) {
    this.receiver = new WebhookReceiver(apiKey, apiSecret);
    this.verifier = new TokenVerifier(apiKey, apiSecret);
  }

  /** A verified, decoded LiveKit webhook. */
  async webhook(body: string, authorization: string | undefined): Promise<WebhookEvent> {
    if (!authorization) throw new AppError('unauthorized', 'missing Authorization header (LiveKit webhook signature)');
    try {
      return await this.receiver.receive(body, authorization);
    } catch (err) {
      // JSON is parsed only after the signature and body hash were accepted.
      if (err instanceof SyntaxError) throw new AppError('invalid_json', 'webhook body is not valid JSON', { cause: err });
      throw new AppError('unauthorized', 'invalid LiveKit webhook signature', { cause: err });
    }
  }

  /** Checks a LiveKit-style signature over any body. */
  async verify(body: string, authorization: string): Promise<void> {
    let sha256: string | undefined;
    try {
      sha256 = (await this.verifier.verify(bare(authorization))).sha256;
    } catch (err) {
      throw new AppError('unauthorized', 'invalid LiveKit signature', { cause: err });
    }
    if (sha256 !== bodyDigest(body)) throw new AppError('unauthorized', 'signature does not match the body');
  }
}
