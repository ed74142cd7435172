/**
 * Stream tokens: browsers' EventSource cannot send headers, so a page trades its API key for a short-lived
 * token it can put in the URL. A token is `lcst_<keyId>.<expiry, unix seconds>.<HMAC-SHA256>`, keyed by the
 * server secret (LIVECALLS_SECRET, see control/secrets.ts), so a leaked tenant table cannot mint tokens.
 * Nothing new is stored, every instance sharing the secret can verify it, and revoking the key voids its
 * tokens at once (the key is looked up on every verification). A token names no room and grants nothing
 * but reading the stream of the key's workspace.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { TenantStore } from '../store/types.ts';

const TOKEN = /^lcst_([0-9a-f]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export const STREAM_TOKEN_TTL = { defaultS: 300, minS: 30, maxS: 3_600 } as const;

function mac(secret: Buffer, keyId: string, workspaceId: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`livecalls-stream\n${keyId}\n${workspaceId}\n${exp}`).digest();
}

export async function issueStreamToken(
  tenants: TenantStore,
  secret: Buffer,
  keyId: string,
  ttlSeconds: number,
  now: number,
): Promise<{ token: string; workspaceId: string; expiresAt: number }> {
  const key = await tenants.getKey(keyId);
  if (!key || key.revokedAt !== null) throw new AppError('unauthorized', 'invalid or revoked API key');
  const exp = Math.floor(now / 1000) + ttlSeconds;
  const sig = mac(secret, key.id, key.workspaceId, exp).toString('base64url');
  return { token: `lcst_${key.id}.${exp}.${sig}`, workspaceId: key.workspaceId, expiresAt: exp * 1000 };
}

/** The workspace and key id a valid token grants; 401 otherwise (one message: no oracle for which part failed). */
export async function verifyStreamToken(
  tenants: TenantStore,
  secret: Buffer,
  token: string,
  now: number,
): Promise<{ workspaceId: string; keyId: string }> {
  const invalid = new AppError('unauthorized', 'invalid or expired stream token');
  const m = TOKEN.exec(token);
  if (!m) throw invalid;
  const [, keyId = '', expText = '', sigText = ''] = m;
  const exp = Number(expText);
  if (exp * 1000 <= now) throw invalid;
  const key = await tenants.getKey(keyId);
  if (!key || key.revokedAt !== null) throw invalid;
  const expected = mac(secret, key.id, key.workspaceId, exp);
  const given = Buffer.from(sigText, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  return { workspaceId: key.workspaceId, keyId: key.id };
}
