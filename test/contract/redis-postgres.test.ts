/** The store contract on the scaled-out backends, against the real Redis and PostgreSQL of this machine. */
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config.ts';
import { openStores } from '../../src/store/open.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, redisReachable, REDIS_URL } from '../helpers/backends.ts';
import { tempDir } from '../helpers/app.ts';
import { storeContract } from './stores.contract.ts';

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
      places.set(id, { prefix: randomName('lctest'), dir: tempDir('livecalls-contract-') });
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

if (redisUp && pgUp) storeContract('Redis + PostgreSQL', backend(true, true));
if (redisUp) storeContract('Redis + embedded archive', backend(true, false));
if (pgUp) storeContract('embedded + PostgreSQL', backend(false, true));
