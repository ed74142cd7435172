/** With live state in Redis the rate limit is one count for every instance, not one per instance. */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { tempDir } from '../helpers/app.ts';
import { dropRedisPrefix, randomName, redisReachable, REDIS_URL, TEST_SECRET } from '../helpers/backends.ts';

const up = await redisReachable();
const prefix = randomName('lcrate');
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  if (up) await dropRedisPrefix(prefix);
});

async function instance(dir: string) {
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dir,
    REDIS_URL,
    LIVECALLS_REDIS_PREFIX: prefix,
    LIVECALLS_SECRET: TEST_SECRET,
    LIVECALLS_RATE_LIMIT: '6',
    LOG_LEVEL: 'silent',
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, { log, stores: await openStores(config, log) });
  const app = await buildApp(services);
  await app.ready();
  closers.push(async () => {
    await app.close();
    await services.close();
  });
  return { services, app };
}

describe.skipIf(!up && process.env.CI !== 'true')('rate limit across instances', () => {
  it('two instances share one count per API key', async () => {
    // Tenants are embedded here, so both instances read one data directory's keys.
    const dir = tempDir('livecalls-rate-');
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const a = await instance(dir);
    const b = await instance(dir);
    const ws = await a.services.stores.tenants.createWorkspace('r', Date.now());
    const { apiKey } = await a.services.stores.tenants.createKey(ws.id, Date.now());
    const headers = { 'x-api-key': apiKey, 'x-workspace-id': ws.id };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const app = i % 2 === 0 ? a.app : b.app;
      statuses.push((await app.inject({ url: '/v2/api/active-calls', headers })).statusCode);
    }
    // Six allowed in all, not six on each.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });
});
