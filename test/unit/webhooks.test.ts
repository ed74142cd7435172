/**
 * The pure parts of outgoing webhooks: the retry schedule, derived message ids, which addresses are public,
 * and their configuration.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { newCall } from '../../src/domain/call.ts';
import type { CallDelta } from '../../src/domain/changes.ts';
import { isPublicAddress, nonPublicLiteralOf } from '../../src/webhooks/address.ts';
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
      allowPrivate: false,
      maxAttempts: 10,
      timeoutMs: 10_000,
      concurrency: 8,
      workspaceConcurrency: 4,
      retentionMs: 720 * 3_600_000,
    });
    expect(loadConfig({ LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY: '2' }).webhooks.workspaceConcurrency).toBe(2);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY: '0' })).toThrow(/LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY/);
    expect(loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true' }).webhooks.allowHttp).toBe(true);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'perhaps' })).toThrow(/LIVECALLS_WEBHOOKS_ALLOW_HTTP/);
    expect(loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'maybe' })).toThrow(/LIVECALLS_WEBHOOKS_ALLOW_PRIVATE/);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_MAX_ATTEMPTS: '0' })).toThrow(/LIVECALLS_WEBHOOKS_MAX_ATTEMPTS/);
    expect(() => loadConfig({ LIVECALLS_WEBHOOKS_TIMEOUT: 'soon' })).toThrow(/LIVECALLS_WEBHOOKS_TIMEOUT/);
  });
});

describe('public addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.5', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.1.10', 'RFC 1918'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique local'],
    ['fd12:3456:789a::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.5', 'IPv4-mapped RFC 1918'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local, hex form'],
    ['::ffff:100.64.0.1', 'IPv4-mapped CGNAT'],
    ['64:ff9b::a00:5', 'NAT64 to 10.0.0.5'],
    ['64:ff9b::808:808', 'NAT64 (tunnels to an IPv4 address)'],
    ['2002:a00:5::1', '6to4 of 10.0.0.5'],
    ['2002:808:808::1', '6to4'],
    ['198.18.0.1', 'benchmarking 198.18.0.0/15'],
    ['198.19.255.254', 'benchmarking 198.18.0.0/15'],
    ['192.0.0.8', 'IETF protocol assignments 192.0.0.0/24'],
    ['100::1', 'discard-only 100::/64'],
    ['192.0.2.1', 'documentation TEST-NET-1'],
    ['198.51.100.7', 'documentation TEST-NET-2'],
    ['203.0.113.5', 'documentation TEST-NET-3'],
    ['2001:db8::1', 'documentation 2001:db8::/32'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['::a00:5', 'deprecated IPv4-compatible'],
    ['240.0.0.1', 'reserved 240.0.0.0/4'],
  ])('%s (%s) is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '198.20.0.1',
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('a name is never judged as an address; URL spellings of a literal are', () => {
    expect(isPublicAddress('localhost')).toBe(false);
    expect(nonPublicLiteralOf('https://localhost:6443/x')).toBeUndefined();
    expect(nonPublicLiteralOf('https://hooks.example.com/x')).toBeUndefined();
    expect(nonPublicLiteralOf('https://8.8.8.8/x')).toBeUndefined();
    expect(nonPublicLiteralOf('not a url')).toBeUndefined();
    expect(nonPublicLiteralOf('https://127.0.0.1:6443/x')).toBe('127.0.0.1');
    expect(nonPublicLiteralOf('https://[::1]/x')).toBe('::1');
    expect(nonPublicLiteralOf('https://[::ffff:10.0.0.5]/x')).toBe('::ffff:a00:5');
    // WHATWG URL parsing turns these spellings into 127.0.0.1, and so does the check.
    expect(nonPublicLiteralOf('https://2130706433/x')).toBe('127.0.0.1');
    expect(nonPublicLiteralOf('https://0x7f.1/x')).toBe('127.0.0.1');
  });
});
