/**
 * A partition is not a hang: with Redis or PostgreSQL blackholed (packets dropped, no reset, which TCP does
 * not notice for minutes), a request answers 503 within about LIVECALLS_BACKEND_TIMEOUT, /readyz answers 503
 * within a second, and both recover by themselves once the network heals. The servers are reached through a
 * proxy that swallows traffic, so the machine's Redis and PostgreSQL keep running for other tests.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { tempDir } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, TEST_SECRET } from '../helpers/backends.ts';
import { startProxy, type Proxy } from '../helpers/tcp-proxy.ts';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function boot(
  env: Record<string, string>,
): Promise<{ services: Services; app: Awaited<ReturnType<typeof buildApp>>; headers: Record<string, string> }> {
  const dir = tempDir('livecalls-partition-');
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dir,
    LIVECALLS_SECRET: TEST_SECRET,
    LIVECALLS_KEY_CACHE_TTL: '0',
    LIVECALLS_BACKEND_TIMEOUT: '2s',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, { log, stores: await openStores(config, log) });
  const app = await buildApp(services);
  await app.ready();
  cleanups.push(async () => {
    await app.close();
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ws = await services.stores.tenants.createWorkspace('p', Date.now());
  const { apiKey } = await services.stores.tenants.createKey(ws.id, Date.now());
  return { services, app, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
}

/** Status and milliseconds of a request. */
async function timed(run: () => Promise<{ statusCode: number }>): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await run();
  return { status: res.statusCode, ms: performance.now() - start };
}

async function partitionCase(proxy: Proxy, env: Record<string, string>): Promise<void> {
  const { app, headers } = await boot(env);
  const list = () => app.inject({ url: '/v2/api/active-calls', headers });
  const ready = () => app.inject({ url: '/readyz' });
  expect((await list()).statusCode).toBe(200);
  expect((await ready()).statusCode).toBe(200);

  proxy.blackhole();
  const during = await timed(list);
  const readiness = await timed(ready);
  const ingest = await timed(() =>
    app.inject({
      method: 'POST',
      url: '/v2/api/active-calls/p-room/events',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ events: [{ id: 'e1', createdAt: Date.now(), type: 'transcript', role: 'customer', content: 'hi' }] }),
    }),
  );
  expect(ingest.status).toBe(503);
  expect(ingest.ms).toBeLessThan(5_000);
  expect(during.status).toBe(503);
  expect(during.ms).toBeLessThan(5_000);
  expect(readiness.status).toBe(503);
  expect(readiness.ms).toBeLessThan(2_000);
  console.log(
    `partition: list 503 after ${Math.round(during.ms)} ms, /readyz 503 after ${Math.round(readiness.ms)} ms, agent events 503 after ${Math.round(ingest.ms)} ms`,
  );

  proxy.heal();
  const healedAt = performance.now();
  for (;;) {
    if ((await list()).statusCode === 200 && (await ready()).statusCode === 200) break;
    if (performance.now() - healedAt > 20_000) throw new Error('did not recover within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`partition: recovered ${Math.round(performance.now() - healedAt)} ms after the network healed`);
}

describe('partitions answer fast and truthfully', () => {
  it.skipIf(!redisUp && process.env.CI !== 'true')(
    'Redis blackholed',
    async () => {
      const proxy = await startProxy(6379);
      const prefix = randomName('lcpart');
      cleanups.push(async () => {
        await proxy.close();
        await dropRedisPrefix(prefix);
      });
      await partitionCase(proxy, { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, LIVECALLS_REDIS_PREFIX: prefix });
    },
    60_000,
  );

  it.skipIf(!pgUp && process.env.CI !== 'true')(
    'PostgreSQL blackholed',
    async () => {
      const db = await createDatabase();
      const proxy = await startProxy(5432);
      cleanups.push(async () => {
        await proxy.close();
        await db.drop();
      });
      const url = new URL(db.url);
      url.port = String(proxy.port);
      await partitionCase(proxy, { DATABASE_URL: url.toString() });
    },
    60_000,
  );
});
