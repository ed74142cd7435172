/**
 * API key format and hashing, shared by every tenant store. A key is `lc_<keyId>_<secret>`: the id finds
 * the record without scanning, the 256-bit secret is stored only as its SHA-256 (a slow hash adds nothing
 * for random secrets of that size) and compared with `timingSafeEqual`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^lc_([0-9a-f]{16})_([0-9a-f]{64})$/;

export function newKeyId(): string {
  return randomBytes(8).toString('hex');
}

export function newApiKey(keyId: string): string {
  return `lc_${keyId}_${randomBytes(32).toString('hex')}`;
}

export function hashKey(apiKey: string): Buffer {
  return createHash('sha256').update(apiKey).digest();
}

export function parseKeyId(apiKey: string): string | undefined {
  return KEY_PATTERN.exec(apiKey)?.[1];
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newWorkspaceId(): string {
  return `ws_${randomBytes(8).toString('hex')}`;
}
