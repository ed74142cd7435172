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

  it('turns LLM insights on only with a URL and a model, with defaults for the rest', () => {
    expect(loadConfig({}).llm).toBeUndefined();
    const c = loadConfig({ LIVECALLS_LLM_URL: 'http://localhost:11434/v1/', LIVECALLS_LLM_MODEL: 'llama3.1' });
    expect(c.llm).toEqual({
      url: 'http://localhost:11434/v1',
      model: 'llama3.1',
      apiKey: undefined,
      timeoutMs: 20_000,
      debounceMs: 2_000,
      concurrency: 4,
      ratePerMinute: 30,
      maxTranscriptChars: 12_000,
      maxLagTurns: 4,
      responseFormat: 'json_schema',
    });
    const tuned = loadConfig({
      LIVECALLS_LLM_URL: 'https://api.openai.com/v1',
      LIVECALLS_LLM_MODEL: 'gpt-4o-mini',
      LIVECALLS_LLM_API_KEY: 'sk-x',
      LIVECALLS_LLM_TIMEOUT: '5s',
      LIVECALLS_LLM_RESPONSE_FORMAT: 'json_object',
    });
    expect(tuned.llm).toMatchObject({ apiKey: 'sk-x', timeoutMs: 5_000, responseFormat: 'json_object' });
  });

  it('fails fast on a bad LLM setting, naming it, and never echoes the key', () => {
    expect(() => loadConfig({ LIVECALLS_LLM_URL: 'http://localhost:11434/v1' })).toThrow(/LIVECALLS_LLM_MODEL/);
    expect(() => loadConfig({ LIVECALLS_LLM_MODEL: 'llama3.1' })).toThrow(/LIVECALLS_LLM_URL/);
    expect(() => loadConfig({ LIVECALLS_LLM_URL: 'ftp://x/v1', LIVECALLS_LLM_MODEL: 'm' })).toThrow(/LIVECALLS_LLM_URL/);
    const base = { LIVECALLS_LLM_URL: 'http://localhost:11434/v1', LIVECALLS_LLM_MODEL: 'm' };
    expect(() => loadConfig({ ...base, LIVECALLS_LLM_TIMEOUT: 'soon' })).toThrow(/LIVECALLS_LLM_TIMEOUT/);
    expect(() => loadConfig({ ...base, LIVECALLS_LLM_CONCURRENCY: '0' })).toThrow(/LIVECALLS_LLM_CONCURRENCY/);
    expect(() => loadConfig({ ...base, LIVECALLS_LLM_RATE_LIMIT: 'many' })).toThrow(/LIVECALLS_LLM_RATE_LIMIT/);
    expect(() => loadConfig({ ...base, LIVECALLS_LLM_RESPONSE_FORMAT: 'yaml' })).toThrow(/LIVECALLS_LLM_RESPONSE_FORMAT/);
    let message = '';
    try {
      loadConfig({
        LIVECALLS_LLM_API_KEY: 'sk-NEVER-SHOWN',
        LIVECALLS_LLM_URL: 'https://user:sk-NEVER-SHOWN@llm.example.com/v1',
        LIVECALLS_LLM_MODEL: 'm',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/LIVECALLS_LLM_URL: no credentials/);
    expect(message).not.toContain('NEVER-SHOWN');
  });
});
