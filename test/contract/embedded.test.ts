import { rmSync } from 'node:fs';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { tempDir } from '../helpers/app.ts';
import { storeContract } from './stores.contract.ts';

storeContract('embedded (SQLite)', {
  newPlace: () => tempDir('livecalls-contract-'),
  open: async (dir) => createEmbeddedStores(dir),
  dispose: async (dir) => rmSync(dir, { recursive: true, force: true }),
});
