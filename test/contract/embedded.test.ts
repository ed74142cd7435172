import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { tempDir } from '../helpers/app.ts';
import { storeContract } from './stores.contract.ts';
import { serviceFor } from '../helpers/service.ts';

storeContract('embedded (SQLite)', {
  newPlace: () => tempDir('livecalls-contract-'),
  open: async (dir) => createEmbeddedStores(dir),
  dispose: async (dir) => rmSync(dir, { recursive: true, force: true }),
});

describe('embedded store only', () => {
  it('forgets dedupe ids older than the window; a replayed turn is still kept once', async () => {
    const dir = tempDir('livecalls-prune-');
    const stores = createEmbeddedStores(dir);
    try {
      const service = serviceFor(stores, 1_000);
      const say = { type: 'transcript', id: 'x', at: 5, role: 'customer', content: 'hi' } as const;
      await service.ingest('ws', 'r', [say], 'agent');
      expect(await stores.calls.pruneSeen(1_001)).toBe(1);
      expect((await service.ingest('ws', 'r', [say], 'agent')).applied).toBe(1);
      expect((await stores.calls.getActive('ws', 'r'))?.transcript).toHaveLength(1);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
