/**
 * Verified API keys, remembered for a few seconds. Every API request checks its key, and a wallboard polls
 * all day: without this each poll is a round trip to PostgreSQL (or a SQLite read and a hash) for an answer
 * that almost never changes. The price is the revocation delay: a key revoked elsewhere (the `livecalls`
 * command, another instance) is still accepted for up to `ttlMs` by an instance that verified it just
 * before; revoked through this very store it is refused at once. Only successes are remembered, so a wrong
 * or revoked key always reaches the store, and a key that becomes valid is accepted at once.
 */
import type { ApiKeyRecord, TenantStore } from './types.ts';

export interface KeyCacheOptions {
  /** How long a verified key is trusted without asking the store again; 0 turns the cache off. */
  ttlMs: number;
  /** Most keys remembered at once; the oldest is forgotten first. */
  maxKeys?: number;
  /** Wall-clock milliseconds. */
  now?: () => number;
}

export function cachedTenants(inner: TenantStore, { ttlMs, maxKeys = 10_000, now = Date.now }: KeyCacheOptions): TenantStore {
  if (ttlMs <= 0) return inner;
  const verified = new Map<string, { key: ApiKeyRecord; until: number }>();
  /** Bumped by every revocation: a verification that was in flight across one is not remembered. */
  let revocations = 0;

  return {
    ...inner,
    async verifyKey(apiKey) {
      const hit = verified.get(apiKey);
      if (hit && hit.until > now()) return hit.key;
      verified.delete(apiKey);
      const seen = revocations;
      const key = await inner.verifyKey(apiKey);
      if (key && seen === revocations) {
        if (verified.size >= maxKeys) verified.delete(verified.keys().next().value as string);
        verified.set(apiKey, { key, until: now() + ttlMs });
      }
      return key;
    },
    async revokeKey(keyId, at) {
      revocations++;
      try {
        return await inner.revokeKey(keyId, at);
      } finally {
        for (const [apiKey, { key }] of verified) if (key.id === keyId) verified.delete(apiKey);
      }
    },
  };
}
