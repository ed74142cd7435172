import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../src/config.ts';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', dataDir: './data', staleAfterMs: 30 * 60_000 });
    expect(c.livekit.url).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('fails fast naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ LIVECALLS_STALE_AFTER: 'soon' })).toThrow(/LIVECALLS_STALE_AFTER/);
    expect(() => loadConfig({ LIVEKIT_URL: 'not a url', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' })).toThrow(/LIVEKIT_URL/);
    expect(() => loadConfig({ LIVEKIT_API_KEY: 'k' })).toThrow(/LIVEKIT_API_SECRET/);
    expect(() => loadConfig({ LIVEKIT_URL: 'https://lk.example.com' })).toThrow(/LIVEKIT_API_KEY/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('reads durations and turns a ws:// LiveKit URL into its HTTP API URL', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration('-1m')).toBeUndefined();
    const c = loadConfig({ LIVEKIT_URL: 'wss://lk.example.com', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' });
    expect(c.livekit.url).toBe('https://lk.example.com');
  });
});
