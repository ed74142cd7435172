/** Shutdown waits for a background pass in progress before the stores close under it. */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createServices } from '../../src/services.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { tempDir } from '../helpers/app.ts';

it('closing the services waits for a stale-call sweep in progress, then closes the stores', async () => {
  const dir = tempDir('livecalls-shutdown-');
  const order: string[] = [];
  const stores = createEmbeddedStores(dir);
  let entered: () => void = () => undefined;
  const inSweep = new Promise<void>((resolve) => (entered = resolve));
  const listIdle = stores.calls.listIdle.bind(stores.calls);
  stores.calls.listIdle = async (before, limit) => {
    entered();
    await new Promise((r) => setTimeout(r, 300));
    order.push('sweep read the store');
    return listIdle(before, limit);
  };
  const close = stores.close.bind(stores);
  stores.close = async () => {
    order.push('stores closed');
    await close();
  };
  // The shortest stale window gives a sweep every second.
  const config = loadConfig({ LIVECALLS_DATA_DIR: dir, LIVECALLS_STALE_AFTER: '4s', LOG_LEVEL: 'silent' });
  const services = createServices(config, { stores, log: pino({ level: 'silent' }) });
  services.sweeper.start();
  await inSweep;
  await services.close();
  expect(order).toEqual(['sweep read the store', 'stores closed']);
  rmSync(dir, { recursive: true, force: true });
}, 20_000);
