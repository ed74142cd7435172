/**
 * The webhook store contract on every place the outbox can live: embedded (SQLite), PostgreSQL
 * (DATABASE_URL, shared by instances), and embedded again when only REDIS_URL is set (the outbox stays
 * with the tenants, which are then embedded).
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { openStores } from '../../src/store/open.ts';
import { tempDir } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, REDIS_URL } from '../helpers/backends.ts';
import { webhookStoreContract } from './webhooks.contract.ts';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);

interface Place {
  prefix: string;
  dir: string;
  db?: { url: string; drop(): Promise<void> };
}
const places = new Map<string, Place>();

function backend(useRedis: boolean, usePg: boolean) {
  return {
    newPlace: () => {
      const id = randomName('place');
      places.set(id, { prefix: randomName('lchooks'), dir: tempDir('livecalls-hooks-') });
      return id;
    },
    open: async (id: string) => {
      const place = places.get(id);
      if (!place) throw new Error('unknown place');
      if (usePg && !place.db) place.db = await createDatabase();
      const config = loadConfig({
        LIVECALLS_DATA_DIR: place.dir,
        LIVECALLS_REDIS_PREFIX: place.prefix,
        ...(useRedis ? { REDIS_URL } : {}),
        ...(usePg && place.db ? { DATABASE_URL: place.db.url } : {}),
      });
      return openStores(config);
    },
    dispose: async (id: string) => {
      const place = places.get(id);
      if (!place) return;
      places.delete(id);
      if (useRedis) await dropRedisPrefix(place.prefix);
      await place.db?.drop();
      rmSync(place.dir, { recursive: true, force: true });
    },
  };
}

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
      const dir = places.get(place)?.dir ?? '';
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
