/** The call-history contract on every backend: embedded, Redis + PostgreSQL, embedded + PostgreSQL. */
import { rmSync } from 'node:fs';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { tempDir } from '../helpers/app.ts';
import { pgReachable, redisReachable, storesOnPlaces } from '../helpers/backends.ts';
import { historyContract } from './history.contract.ts';

historyContract('embedded (SQLite FTS5)', {
  newPlace: () => tempDir('livecalls-history-'),
  open: async (dir) => createEmbeddedStores(dir),
  dispose: async (dir) => rmSync(dir, { recursive: true, force: true }),
});

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);
if (redisUp && pgUp) historyContract('Redis + PostgreSQL', storesOnPlaces(true, true, 'lchist'));
if (pgUp) historyContract('embedded + PostgreSQL', storesOnPlaces(false, true, 'lchist'));
