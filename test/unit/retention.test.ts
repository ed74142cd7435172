/** Retention: ended calls older than LIVECALLS_RETENTION are purged in batches, and counted. */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetention, PURGE_BATCH } from '../../src/calls/retention.ts';
import { loadConfig, parseRetention } from '../../src/config.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import type { Stores } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';
import { endCall } from '../helpers/history.ts';
import { serviceFor } from '../helpers/service.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 8, 1);

describe('retention', () => {
  let dir: string;
  let stores: Stores;
  afterEach(async () => {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function seed(oldCalls: number, recentCalls: number): Promise<void> {
    dir = tempDir('livecalls-retention-');
    stores = createEmbeddedStores(dir);
    const service = serviceFor(stores, NOW);
    for (let i = 0; i < oldCalls; i++)
      await endCall(service, 'ws', { room: `old${i}`, start: NOW - 100 * DAY, end: NOW - 100 * DAY + 60_000, turns: ['old words'] });
    for (let i = 0; i < recentCalls; i++)
      await endCall(service, 'ws', { room: `new${i}`, start: NOW - DAY, end: NOW - DAY + 60_000, turns: ['new words'] });
    // Still active: never purged, however old.
    await service.ingest(
      'ws',
      'live',
      [{ type: 'transcript', id: 'l', at: NOW - 200 * DAY, role: 'customer', content: 'old words' }],
      'agent',
    );
  }

  it('purges ended calls older than the retention, in batches, and counts them', async () => {
    await seed(PURGE_BATCH + 5, 3);
    const metrics = createMetrics(false);
    const retention = createRetention({
      history: stores.history,
      retentionMs: 90 * DAY,
      clock: () => NOW,
      metrics,
      log: pino({ level: 'silent' }),
      pauseMs: 0,
    });
    expect(await retention.purge()).toBe(PURGE_BATCH + 5);
    expect((await metrics.historyPurged.get()).values[0]?.value).toBe(PURGE_BATCH + 5);
    const left = await stores.history.page('ws', {}, 0, 100);
    expect(left.total).toBe(3);
    expect((await stores.history.page('ws', { terms: ['old'] }, 0, 10)).total).toBe(0);
    expect(await stores.calls.getActive('ws', 'live')).toBeDefined();
    expect(await retention.purge()).toBe(0);
  });

  it('keeps everything without a retention, and runs as a loop started and stopped by the server', async () => {
    await seed(3, 1);
    const log = pino({ level: 'silent' });
    const forever = createRetention({
      history: stores.history,
      retentionMs: undefined,
      clock: () => NOW,
      metrics: createMetrics(false),
      log,
    });
    expect(await forever.purge()).toBe(0);
    expect((await stores.history.page('ws', {}, 0, 10)).total).toBe(4);

    const looping = createRetention({
      history: stores.history,
      retentionMs: 30 * DAY,
      clock: () => NOW,
      metrics: createMetrics(false),
      log,
      everyMs: 10,
    });
    looping.start();
    const deadline = Date.now() + 10_000;
    while ((await stores.history.page('ws', {}, 0, 10)).total > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await looping.stop();
    expect((await stores.history.page('ws', {}, 0, 10)).total).toBe(1);
  });

  it('reads LIVECALLS_RETENTION with its unit, and keeps forever by default', () => {
    expect(loadConfig({}).retentionMs).toBeUndefined();
    expect(loadConfig({ LIVECALLS_RETENTION: '90d' }).retentionMs).toBe(90 * DAY);
    expect(loadConfig({ LIVECALLS_RETENTION: 'forever' }).retentionMs).toBeUndefined();
    expect(parseRetention('12h')).toBe(12 * 3_600_000);
    expect(parseRetention('30m')).toBe(30 * 60_000);
    expect(parseRetention('90')).toBeUndefined();
    expect(parseRetention('0d')).toBeUndefined();
    expect(() => loadConfig({ LIVECALLS_RETENTION: 'three months' })).toThrow(/LIVECALLS_RETENTION/);
  });
});
