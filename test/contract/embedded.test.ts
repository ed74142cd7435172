import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MAX_LIVE_TURNS } from '../../src/domain/call.ts';
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

  it('keeps a call row without its transcript, and reads the live window back from the turns', async () => {
    const dir = tempDir('livecalls-rows-');
    try {
      let stores = createEmbeddedStores(dir);
      const service = serviceFor(stores, 1_000);
      const turns = Array.from({ length: MAX_LIVE_TURNS + 10 }, (_, i) => ({
        type: 'transcript' as const,
        id: `t${i}`,
        // One turn arrives late, older than most: it must sit in order, or fall out of the window.
        at: i === 30 ? 3 : 100 + i,
        role: i % 2 ? ('agent' as const) : ('customer' as const),
        content: `words number ${i}`,
      }));
      for (let i = 0; i < turns.length; i += 7) await service.ingest('ws', 'r', turns.slice(i, i + 7), 'agent');
      const before = await stores.calls.getActive('ws', 'r');
      expect(before?.transcript).toHaveLength(MAX_LIVE_TURNS);
      await stores.close();

      const db = new Database(path.join(dir, 'livecalls.db'));
      const { state } = db.prepare('SELECT state FROM calls').get() as { state: string };
      db.close();
      expect(state).not.toContain('words number');
      // What an older livecalls reading this row needs: a transcript it can iterate (empty).
      expect(JSON.parse(state)).toMatchObject({ transcript: [], transcriptInTurns: true });

      stores = createEmbeddedStores(dir);
      const after = await stores.calls.getActive('ws', 'r');
      expect(after?.transcript).toEqual(before?.transcript);
      expect(after).toEqual(before);
      await stores.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads rows written with the transcript inside as they are', async () => {
    const dir = tempDir('livecalls-rows-');
    try {
      let stores = createEmbeddedStores(dir);
      await serviceFor(stores, 1_000).ingest(
        'ws',
        'r',
        [{ type: 'transcript', id: 'a', at: 5, role: 'customer', content: 'hello' }],
        'agent',
      );
      const call = await stores.calls.getActive('ws', 'r');
      await stores.close();
      // An older row: the whole call, transcript included, in `state` (here with a turn the table lacks).
      const legacy = { ...call, transcript: [...(call?.transcript ?? []), { id: 'only-in-state', role: 'agent', content: 'hi', at: 6 }] };
      const db = new Database(path.join(dir, 'livecalls.db'));
      db.prepare('UPDATE calls SET state = ?').run(JSON.stringify(legacy));
      db.close();
      stores = createEmbeddedStores(dir);
      expect((await stores.calls.getActive('ws', 'r'))?.transcript.map((t) => t.id)).toEqual(['a', 'only-in-state']);
      await stores.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
