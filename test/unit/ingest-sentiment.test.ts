/**
 * Sentiment is scored once per batch, from the call's final transcript, and only when the batch added a turn:
 * the same result as rescoring after every turn, for a fraction of the work.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnalyzer, type ConversationAnalyzer, type Turn } from '../../src/analysis/index.ts';
import { CallService } from '../../src/calls/service.ts';
import type { CallEvent } from '../../src/domain/events.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import type { Stores } from '../../src/store/types.ts';
import { tempDir } from '../helpers/app.ts';

const T0 = Date.UTC(2026, 0, 1);
const LINES = ['Hello, how can I help?', 'This is terrible, I am so angry.', 'I am sorry to hear that.', 'Nothing ever works!'];

function turns(from: number, n: number, room = 'room'): CallEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'transcript',
    // Event ids are unique within a workspace, so each room's turns get their own.
    id: `${room}:t${from + i}`,
    at: T0 + (from + i) * 1000,
    role: (from + i) % 2 ? 'customer' : 'agent',
    content: LINES[(from + i) % LINES.length] as string,
  }));
}

describe('sentiment at ingest', () => {
  let dir = '';
  let stores: Stores | undefined;
  afterEach(async () => {
    await stores?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setUp() {
    dir = tempDir();
    stores = createEmbeddedStores(dir);
    const real = createAnalyzer();
    const scored: (readonly Turn[])[] = [];
    const counting: ConversationAnalyzer = {
      sentiment: (t) => {
        scored.push(t);
        return real.sentiment(t);
      },
      insights: (t) => real.insights(t),
    };
    const service = new CallService(stores.calls, stores.tenants, counting, () => T0, createMetrics(false), pino({ level: 'silent' }));
    return { service, scored, real, calls: stores.calls };
  }

  it('scores a batch of 20 turns once, from the final transcript, and agrees with scoring turn by turn', async () => {
    const { service, scored, real, calls } = setUp();
    await service.ingest('ws', 'batched', turns(0, 20, 'batched'), 'agent');
    expect(scored).toHaveLength(1);
    for (const e of turns(0, 20, 'one-by-one')) await service.ingest('ws', 'one-by-one', [e], 'agent');
    expect(scored).toHaveLength(21);

    const batched = await calls.getActive('ws', 'batched');
    const oneByOne = await calls.getActive('ws', 'one-by-one');
    expect(batched?.sentiment).toBe('negative');
    expect(batched?.sentimentScore).toBe(real.sentiment(batched?.transcript ?? []).score);
    expect({ sentiment: batched?.sentiment, score: batched?.sentimentScore }).toEqual({
      sentiment: oneByOne?.sentiment,
      score: oneByOne?.sentimentScore,
    });
  });

  it('does not rescore when a batch adds no turn (call facts, a repeated turn)', async () => {
    const { service, scored, calls } = setUp();
    await service.ingest('ws', 'room', turns(0, 4), 'agent');
    const before = await calls.getActive('ws', 'room');
    await service.ingest('ws', 'room', [{ type: 'customer_info', id: 'ci', at: T0 + 9000, name: 'Pat', phone: null }], 'agent');
    await service.ingest('ws', 'room', turns(3, 1), 'agent');
    expect(scored).toHaveLength(1);
    const after = await calls.getActive('ws', 'room');
    expect(after?.customerName?.value).toBe('Pat');
    expect(after?.sentimentScore).toBe(before?.sentimentScore);
    expect(after?.sentiment).toBe('negative');
  });
});
