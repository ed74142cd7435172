/** The pure parts of outgoing webhooks: the retry schedule, derived message ids, and their configuration. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { newCall } from '../../src/domain/call.ts';
import type { CallDelta } from '../../src/domain/changes.ts';
import { buildMessage, eventTypesOf, webhookId } from '../../src/webhooks/events.ts';
import { retryDelayMs } from '../../src/webhooks/worker.ts';

function delta(over: Partial<CallDelta> = {}): CallDelta {
  const call = newCall('0123456789abcdef01234567', 'ws_a', 'room-1', Date.UTC(2026, 0, 1));
  return { call, started: false, ended: false, aspects: [], newTurns: [], transferRequested: false, sentimentChanged: null, ...over };
}

describe('retry schedule', () => {
  it('grows fourfold from 5 s, is capped at 6 h, and jitters within ±20 %', () => {
    const mid = Array.from({ length: 10 }, (_, i) => retryDelayMs(i + 1, () => 0.5));
    expect(mid).toEqual([5_000, 20_000, 80_000, 320_000, 1_280_000, 5_120_000, 20_480_000, 21_600_000, 21_600_000, 21_600_000]);
    expect(retryDelayMs(1, () => 0)).toBe(4_000);
    expect(retryDelayMs(1, () => 0.999_999)).toBe(6_000);
    expect(retryDelayMs(12, () => 0)).toBe(17_280_000);
  });
});

describe('message ids', () => {
  it('are the same for the same news and differ across calls, types, workspaces and sentiment changes', () => {
    expect(webhookId('ws_a', 'c1', 'call.ended')).toBe(webhookId('ws_a', 'c1', 'call.ended'));
    expect(webhookId('ws_a', 'c1', 'call.ended')).toMatch(/^msg_[0-9a-f]{32}$/);
    const ids = [
      webhookId('ws_a', 'c1', 'call.ended'),
      webhookId('ws_a', 'c1', 'call.started'),
      webhookId('ws_a', 'c2', 'call.ended'),
      webhookId('ws_b', 'c1', 'call.ended'),
      webhookId('ws_a', 'c1', 'call.sentiment_changed', '3'),
      webhookId('ws_a', 'c1', 'call.sentiment_changed', '4'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a sentiment change is told apart by the turn count at which it happened', () => {
    const change = { from: 'neutral', to: 'positive' } as const;
    const first = delta({ sentimentChanged: change });
    first.call.turnCount = 2;
    const again = buildMessage('call.sentiment_changed', first, 1);
    expect(buildMessage('call.sentiment_changed', first, 2).id).toBe(again.id);
    const later = delta({ sentimentChanged: { from: 'positive', to: 'neutral' } });
    later.call.turnCount = 5;
    expect(buildMessage('call.sentiment_changed', later, 3).id).not.toBe(again.id);
  });

  it('a change that starts and ends a call at once is two events, started first', () => {
    expect(eventTypesOf(delta({ started: true, ended: true }))).toEqual(['call.started', 'call.ended']);
    expect(eventTypesOf(delta({ aspects: ['transcript'] }))).toEqual([]);
    const body = JSON.parse(buildMessage('call.started', delta({ started: true }), Date.UTC(2026, 0, 1, 0, 0, 5)).payload);
    expect(body).toMatchObject({
      type: 'call.started',
      timestamp: '2026-01-01T00:00:05.000Z',
      data: { callId: '0123456789abcdef01234567' },
    });
  });
});

describe('webhook configuration', () => {
  it('defaults to https only, 10 attempts, 10 s timeout; a bad value names its variable', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowHttp: false,
      maxAttempts: 10,
      timeoutMs: 10_000,
      concurrency: 8,
      retentionMs: 720 * 3_600_000,
    });
    expect(loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true' }).webhooks.allowHttp).toBe(true);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'perhaps' })).toThrow(/LIVECALLS_WEBHOOKS_ALLOW_HTTP/);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_MAX_ATTEMPTS: '0' })).toThrow(/LIVECALLS_WEBHOOKS_MAX_ATTEMPTS/);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_TIMEOUT: 'soon' })).toThrow(/LIVECALLS_WEBHOOKS_TIMEOUT/);
  });
});
