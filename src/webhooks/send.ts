/**
 * One webhook POST. By node:http(s) rather than fetch: their `lookup` option lets the address each connection
 * is about to open be checked (see address.ts), which fetch offers no hook for without another dependency.
 * Redirects are not followed: a redirect is not a delivery, the receiver registers the final URL.
 */
import http from 'node:http';
import https from 'node:https';
import { ipLiteralOf, isPublicAddress, NotPublicAddressError, publicOnlyLookup } from './address.ts';

export interface PostOptions {
  headers: Record<string, string>;
  /** ms until the response's head must have arrived; the request is aborted after that. */
  timeoutMs: number;
  /** Connect to loopback, private, link-local, … addresses too. */
  allowPrivate: boolean;
}

/**
 * Resolves with the response's status as soon as its head arrives (the body is not read: nothing in it
 * matters, and a receiver streaming one must not hold a send slot). Rejects when no response came:
 * `NotPublicAddressError` when refused before connecting, an `AbortError` on timeout, a socket error otherwise.
 */
export function postWebhook(url: string, body: string, o: PostOptions): Promise<number> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
  if (!o.allowPrivate) {
    // An IP literal is connected to without a lookup, so the lookup hook never sees it.
    const literal = ipLiteralOf(target);
    if (literal !== undefined && !isPublicAddress(literal)) return Promise.reject(new NotPublicAddressError(literal));
  }
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...o.headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(o.timeoutMs),
        ...(o.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
