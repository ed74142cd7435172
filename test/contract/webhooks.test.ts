/**
 * The webhook store contract on every place the outbox can live: embedded (SQLite), PostgreSQL
 * (DATABASE_URL, shared by instances), and embedded again when only REDIS_URL is set (the outbox stays
 * with the tenants, which are then embedded).
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { tempDir } from '../helpers/app.ts';
import { pgReachable, redisReachable, storesOnPlaces } from '../helpers/backends.ts';
import { webhookStoreContract } from './webhooks.contract.ts';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);

const backend = (useRedis: boolean, usePg: boolean) => storesOnPlaces(useRedis, usePg, 'lchooks');

webhookStoreContract('embedded (SQLite)', {
  newPlace: () => tempDir('livecalls-hooks-'),
  open: async (dir) => createEmbeddedStores(dir),
  dispose: async (dir) => rmSync(dir, { recursive: true, force: true }),
});
if (pgUp) webhookStoreContract('PostgreSQL', backend(false, true));
if (redisUp) webhookStoreContract('Redis only (embedded outbox)', backend(true, false));

describe.skipIf(!redisUp)('outbox placement with REDIS_URL and no DATABASE_URL', () => {
  it('keeps the outbox in the embedded database of LIVECALLS_DATA_DIR', async () => {
    const b = backend(true, false);
    const place = b.newPlace();
    const stores = await b.open(place);
    try {
      await stores.webhooks.createEndpoint({
        id: 'ep_00000000000000aa',
        workspaceId: 'wsA',
        url: 'https://example.com/h',
        events: ['call.started'],
        description: null,
        secret: 'whsec_c2VjcmV0',
        createdAt: 1,
      });
      expect(await stores.webhooks.enqueue({ id: 'msg_1', workspaceId: 'wsA', type: 'call.started', payload: '{}' }, 1)).toBe(1);
      const dir = b.dirOf(place) ?? '';
      const embedded = createEmbeddedStores(dir);
      try {
        expect((await embedded.webhooks.listDeliveries('wsA', 'ep_00000000000000aa', 10)).map((d) => d.eventId)).toEqual(['msg_1']);
      } finally {
        await embedded.close();
      }
    } finally {
      await stores.close();
      await b.dispose(place);
    }
  });
});
