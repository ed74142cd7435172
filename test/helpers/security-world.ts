/**
 * The world the security table runs in, once per backend: livecalls listening on a port (streams need a
 * socket), wired to the LiveKit stand-in (its webhooks go into the app), two workspaces A (the caller) and
 * B (the other tenant), and the wrong keys of the table: never issued, and revoked after use.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { issueStreamToken } from '../../src/live/tokens.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { LK_KEY, LK_SECRET, tempDir, type TestClock, type TestWorkspace } from './app.ts';
import { createDatabase, dropRedisPrefix, randomName, REDIS_URL, TEST_SECRET } from './backends.ts';
import { startLiveKitStandIn, type StandIn } from './livekit-server.ts';
import { injectSink } from './livekit-server-setup.ts';

export type Backend = 'embedded' | 'Redis + PostgreSQL';

export interface World {
  backend: Backend;
  app: FastifyInstance;
  services: Services;
  clock: TestClock;
  /** http://127.0.0.1:<port> */
  base: string;
  lk: StandIn;
  a: TestWorkspace;
  b: TestWorkspace;
  /** Well-formed (`lc_<id>_<secret>`), never issued. */
  unknownKey: string;
  /** A's second key: verified once, then revoked through the app's services. */
  revokedKey: string;
  /** Stream tokens: A's, one minted by the revoked key before its revocation, one well-formed but forged. */
  streamTokens: { a: string; revoked: string; forged: string };
  close(): Promise<void>;
}

export async function openWorld(backend: Backend): Promise<World> {
  const dataDir = tempDir('livecalls-security-');
  const prefix = randomName('lcsec');
  const db = backend === 'embedded' ? undefined : await createDatabase();
  const clock: TestClock = {
    now: Date.UTC(2026, 10, 24, 10, 0, 0),
    advance(ms) {
      this.now += ms;
    },
  };
  const lk = await startLiveKitStandIn(LK_KEY, LK_SECRET, () => clock.now);
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_URL: lk.url,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVECALLS_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
    ...(db ? { REDIS_URL, LIVECALLS_REDIS_PREFIX: prefix, DATABASE_URL: db.url, LIVECALLS_SECRET: TEST_SECRET } : {}),
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, { clock: () => clock.now, log, ...(db ? { stores: await openStores(config, log) } : {}) });
  const app = await buildApp(services);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  lk.sink = injectSink(app);

  const tenants = services.stores.tenants;
  async function workspace(name: string): Promise<TestWorkspace> {
    const ws = await tenants.createWorkspace(name, clock.now);
    const { key, apiKey } = await tenants.createKey(ws.id, clock.now);
    return { id: ws.id, apiKey, keyId: key.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
  }
  const a = await workspace('a');
  const b = await workspace('b');

  // Revoked after one successful request, so a key cache that outlived the revocation would show here.
  const doomed = await tenants.createKey(a.id, clock.now);
  const warm = await app.inject({ url: '/v2/api/active-calls', headers: { 'x-api-key': doomed.apiKey, 'x-workspace-id': a.id } });
  if (warm.statusCode !== 200) throw new Error(`the key to revoke was refused before its revocation: ${warm.statusCode}`);
  const revokedToken = await issueStreamToken(tenants, services.secret.streamTokenKey, doomed.key.id, 300, clock.now);
  await tenants.revokeKey(doomed.key.id, clock.now);

  const aToken = await issueStreamToken(tenants, services.secret.streamTokenKey, a.keyId, 300, clock.now);
  const forgedExp = Math.floor(clock.now / 1000) + 300;
  return {
    backend,
    app,
    services,
    clock,
    base,
    lk,
    a,
    b,
    unknownKey: `lc_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('hex')}`,
    revokedKey: doomed.apiKey,
    streamTokens: {
      a: aToken.token,
      revoked: revokedToken.token,
      forged: `lcst_${randomBytes(8).toString('hex')}.${forgedExp}.${randomBytes(32).toString('base64url')}`,
    },
    async close() {
      await app.close();
      await services.close();
      await lk.close();
      if (db) {
        await dropRedisPrefix(prefix);
        await db.drop();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
