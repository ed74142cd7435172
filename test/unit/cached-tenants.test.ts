/**
 * The verified-key cache over a real embedded tenant store: a verified key is trusted for the TTL, then
 * checked again; a revocation through it is immediate; one made elsewhere holds within the TTL; failures
 * are never remembered.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedTenants } from '../../src/store/cached-tenants.ts';
import { openDatabase } from '../../src/store/embedded/db.ts';
import { createEmbeddedTenants } from '../../src/store/embedded/tenants.ts';
import type { TenantStore } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';

const TTL = 5_000;
let dir: string;
let db: ReturnType<typeof openDatabase>;
let store: TenantStore;
let lookups: number;
/** While set, the store's answers wait for `release()`: a verification still in flight. */
let held: Promise<void> | undefined;
let release: () => void = () => {};
let clock: number;
let cached: TenantStore;

beforeEach(() => {
  dir = tempDir();
  db = openDatabase(dir);
  const real = createEmbeddedTenants(db);
  lookups = 0;
  store = {
    ...real,
    verifyKey: async (apiKey) => {
      lookups++;
      const answer = await real.verifyKey(apiKey);
      await held;
      return answer;
    },
  };
  clock = 1_000_000;
  cached = cachedTenants(store, { ttlMs: TTL, now: () => clock });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newKey() {
  const ws = await store.createWorkspace('w', 0);
  return store.createKey(ws.id, 0);
}

describe('cachedTenants', () => {
  it('trusts a verified key for the TTL, then asks the store again', async () => {
    const { apiKey, key } = await newKey();
    expect((await cached.verifyKey(apiKey))?.id).toBe(key.id);
    clock += TTL - 1;
    expect((await cached.verifyKey(apiKey))?.workspaceId).toBe(key.workspaceId);
    expect(lookups).toBe(1);
    clock += 1;
    expect((await cached.verifyKey(apiKey))?.id).toBe(key.id);
    expect(lookups).toBe(2);
  });

  it('a key revoked elsewhere is refused once the TTL has run out; revoked through the cache, at once', async () => {
    const elsewhere = await newKey();
    const here = await newKey();
    await cached.verifyKey(elsewhere.apiKey);
    await cached.verifyKey(here.apiKey);
    await store.revokeKey(elsewhere.key.id, 0); // another process: this cache cannot know
    expect(await cached.verifyKey(elsewhere.apiKey)).toBeDefined();
    clock += TTL;
    expect(await cached.verifyKey(elsewhere.apiKey)).toBeUndefined();
    expect(await cached.revokeKey(here.key.id, 0)).toBe(true);
    expect(await cached.verifyKey(here.apiKey)).toBeUndefined();
  });

  it('never remembers a failure, nor a success that raced a revocation', async () => {
    const { apiKey, key } = await newKey();
    const wrong = `${apiKey.slice(0, -1)}${apiKey.endsWith('0') ? '1' : '0'}`;
    expect(await cached.verifyKey(wrong)).toBeUndefined();
    expect(await cached.verifyKey(wrong)).toBeUndefined();
    expect(lookups).toBe(2);
    // An answer read before a revocation and delivered after it is stale: returned, but not kept.
    held = new Promise((resolve) => (release = resolve));
    const verifying = cached.verifyKey(apiKey);
    await cached.revokeKey(key.id, 0);
    held = undefined;
    release();
    expect(await verifying).toBeDefined();
    expect(await cached.verifyKey(apiKey)).toBeUndefined();
  });

  it('forgets the oldest key past its size, and a TTL of 0 is no cache at all', async () => {
    const small = cachedTenants(store, { ttlMs: TTL, maxKeys: 2, now: () => clock });
    const keys = [await newKey(), await newKey(), await newKey()];
    for (const k of keys) await small.verifyKey(k.apiKey);
    lookups = 0;
    await small.verifyKey(keys[2]?.apiKey ?? '');
    await small.verifyKey(keys[1]?.apiKey ?? '');
    expect(lookups).toBe(0);
    await small.verifyKey(keys[0]?.apiKey ?? '');
    expect(lookups).toBe(1);
    expect(cachedTenants(store, { ttlMs: 0 })).toBe(store);
  });
});
