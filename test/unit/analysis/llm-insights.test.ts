/**
 * LLM insights against a local chat-completions server (test/helpers/chat-standin.ts): the answer is used
 * when valid, every failure leaves the call on its offline insights, is counted and backs off, and the
 * debounce, concurrency cap and per-workspace rate hold. Time is a manual clock: nothing here depends on
 * how fast the machine is.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LlmInsights } from '../../../src/analysis/llm/service.ts';
import type { LlmConfig } from '../../../src/config.ts';
import { newCall, type Call } from '../../../src/domain/call.ts';
import { createMetrics, type Metrics } from '../../../src/metrics.ts';
import { completion, startChatStandIn, VALID_ANSWER, type ChatStandIn } from '../../helpers/chat-standin.ts';
import { ManualTimers } from '../../helpers/manual-timers.ts';

const API_KEY = 'sk-test-SECRET-4f9a2c7d1e';
const DEBOUNCE = 1_000;
const TIMEOUT = 5_000;

let standIn: ChatStandIn;
let timers: ManualTimers;
let metrics: Metrics;
let logged: string[];
let llm: LlmInsights;

function start(overrides: Partial<LlmConfig> = {}): LlmInsights {
  const config: LlmConfig = {
    url: standIn.url,
    model: 'stand-in-model',
    apiKey: API_KEY,
    timeoutMs: TIMEOUT,
    debounceMs: DEBOUNCE,
    concurrency: 4,
    ratePerMinute: 100,
    maxTranscriptChars: 4_000,
    maxLagTurns: 2,
    responseFormat: 'json_schema',
    ...overrides,
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString('utf8'));
      done();
    },
  });
  llm = new LlmInsights({ config, metrics, log: pino({ level: 'debug' }, sink), timers });
  return llm;
}

let seq = 0;
/** A call of `workspaceId` with `n` turns, the customer's carrying `marker` so a request can be traced to its call. */
function call(workspaceId: string, id: string, n: number, marker = id): Call {
  const c = newCall(id, workspaceId, `room-${id}`, 0);
  c.transcript = Array.from({ length: n }, (_, i) => ({
    id: `${id}-t${i}`,
    role: i % 2 === 0 ? ('customer' as const) : ('agent' as const),
    content: i % 2 === 0 ? `I lost my card (${marker} turn ${i})` : `Let me block it for you (${marker} turn ${i}).`,
    at: ++seq,
  }));
  c.turnCount = n;
  return c;
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

/** Lets the debounce elapse and waits for the requests it started to finish. */
async function debounceAndSettle(): Promise<void> {
  timers.advance(DEBOUNCE);
  await llm.settled();
}

beforeEach(async () => {
  standIn = await startChatStandIn();
  timers = new ManualTimers();
  metrics = createMetrics(false);
  logged = [];
});
afterEach(async () => {
  await llm.stop();
  await standIn.close();
});

describe('LLM insights: a valid answer', () => {
  it('is used for the transcript it was computed from, and says which model produced it', async () => {
    start();
    const c = call('ws-a', 'call1', 3);
    llm.transcriptChanged('ws-a', c);
    expect(llm.forCall('ws-a', c)).toBeUndefined(); // nothing before the debounce: offline meanwhile
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(1);
    const req = standIn.requests[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.body.model).toBe('stand-in-model');
    expect(req.body.response_format?.type).toBe('json_schema');
    expect(req.body.response_format?.json_schema?.name).toBe('call_insights');
    expect(req.body.messages?.at(-1)?.content).toContain('Customer: I lost my card (call1 turn 2)');
    const view = llm.forCall('ws-a', c);
    expect(view).toMatchObject({ model: 'stand-in-model', turnsBehind: 0, turnCount: 3 });
    expect(view?.answer).toEqual(VALID_ANSWER);
    expect(await counter('livecalls_llm_requests_total', { result: 'ok' })).toBe(1);
  });

  it('is served up to maxLagTurns behind the live transcript, not beyond', async () => {
    start({ maxLagTurns: 2 });
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    await debounceAndSettle();
    expect(llm.forCall('ws-a', call('ws-a', 'call1', 5))?.turnsBehind).toBe(2);
    expect(llm.forCall('ws-a', call('ws-a', 'call1', 6))).toBeUndefined();
  });

  it('is not asked again for the same transcript, and is forgotten when the call ends', async () => {
    start();
    const c = call('ws-a', 'call1', 3);
    llm.transcriptChanged('ws-a', c);
    await debounceAndSettle();
    llm.transcriptChanged('ws-a', c);
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(1);
    const ended = { ...c, endedAt: 1 };
    llm.onChange('ws-a', [
      { call: ended, started: false, ended: true, aspects: [], newTurns: [], transferRequested: false, sentimentChanged: null },
    ]);
    expect(llm.forCall('ws-a', c)).toBeUndefined();
  });

  it('falls back to JSON mode when the server refuses json_schema, and stays there', async () => {
    standIn.reply = (req) =>
      req.body.response_format?.type === 'json_schema'
        ? { kind: 'raw', status: 400, body: '{"error":{"message":"response_format json_schema is not supported"}}' }
        : { kind: 'answer', content: '```json\n' + JSON.stringify(VALID_ANSWER) + '\n```' };
    start();
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    await debounceAndSettle();
    expect(llm.forCall('ws-a', call('ws-a', 'call1', 3))?.answer.summary).toBe(VALID_ANSWER.summary);
    llm.transcriptChanged('ws-a', call('ws-a', 'call2', 3));
    await debounceAndSettle();
    expect(standIn.requests.map((r) => r.body.response_format?.type)).toEqual(['json_schema', 'json_object', 'json_object']);
  });

  it('sends only the latest turns that fit the cap, saying how many were left out', async () => {
    start({ maxTranscriptChars: 500 });
    llm.transcriptChanged('ws-a', call('ws-a', 'long', 40));
    await debounceAndSettle();
    const sent = standIn.requests[0]?.body.messages?.at(-1)?.content ?? '';
    expect(sent).toContain('(long turn 39)');
    expect(sent).not.toContain('(long turn 0)');
    expect(sent).toMatch(/\[\d+ earlier turns omitted\]/);
    const transcript = sent.slice(sent.indexOf('"""') + 3, sent.lastIndexOf('"""'));
    expect(transcript.length).toBeLessThanOrEqual(500 + 40);
  });
});

describe('LLM insights: failures fall back to the offline insights, are counted and back off', () => {
  const cases: [string, () => ChatStandIn['reply'], string][] = [
    ['a 500', () => () => ({ kind: 'raw', status: 500, body: '{"error":"boom"}' }), 'http_error'],
    ['a body that is not JSON', () => () => ({ kind: 'raw', status: 200, body: '<html>gateway</html>' }), 'malformed'],
    [
      'an answer larger than 1 MiB',
      () => () => ({ kind: 'raw', status: 200, body: completion({ ...VALID_ANSWER, summary: 'x'.repeat(2 * 1024 * 1024) }) }),
      'malformed',
    ],
    [
      'a completion whose content is not JSON',
      () => () => ({ kind: 'answer', content: 'Sure! Here are the insights: summary…' }),
      'malformed',
    ],
    [
      'JSON that violates the schema',
      () => () => ({ kind: 'answer', content: { ...VALID_ANSWER, sentiment: 'furious', state: undefined } }),
      'schema',
    ],
    ['a 429', () => () => ({ kind: 'raw', status: 429, body: '{}', headers: { 'retry-after': '30' } }), 'rate_limited'],
  ];
  for (const [what, reply, result] of cases) {
    it(`${what}: no LLM result, counted as ${result}`, async () => {
      standIn.reply = reply();
      start();
      const c = call('ws-a', 'call1', 3);
      llm.transcriptChanged('ws-a', c);
      await debounceAndSettle();
      expect(standIn.requests).toHaveLength(1);
      expect(llm.forCall('ws-a', c)).toBeUndefined();
      expect(await counter('livecalls_llm_requests_total', { result })).toBe(1);
      expect(await counter('livecalls_llm_requests_total', { result: 'ok' })).toBe(0);
      expect(logged.join('')).toContain('LLM insights failed');
    });
  }

  it('a slow answer is abandoned at the timeout, then retried once after the backoff', async () => {
    standIn.reply = () => ({ kind: 'hold' });
    start();
    const c = call('ws-a', 'call1', 3);
    llm.transcriptChanged('ws-a', c);
    timers.advance(DEBOUNCE);
    await vi.waitFor(() => expect(standIn.open()).toBe(1), { timeout: 15_000 });
    timers.advance(TIMEOUT);
    await llm.settled();
    expect(llm.forCall('ws-a', c)).toBeUndefined();
    expect(await counter('livecalls_llm_requests_total', { result: 'timeout' })).toBe(1);
    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    timers.advance(999); // the backoff after one failure is 1 s
    await llm.settled();
    expect(standIn.requests).toHaveLength(1);
    timers.advance(1);
    await llm.settled();
    expect(standIn.requests).toHaveLength(2);
    expect(llm.forCall('ws-a', c)?.turnsBehind).toBe(0);
  });

  it("a 429's Retry-After holds every request back that long", async () => {
    standIn.reply = () => ({ kind: 'raw', status: 429, body: '{}', headers: { 'retry-after': '30' } });
    start();
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    await debounceAndSettle();
    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    llm.transcriptChanged('ws-b', call('ws-b', 'other', 3));
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(1);
    expect(await counter('livecalls_llm_deferred_total', { reason: 'backoff' })).toBeGreaterThanOrEqual(1);
    timers.advance(30_000 - DEBOUNCE);
    await llm.settled();
    expect(standIn.requests).toHaveLength(3); // the retry of call1 and other's first
    expect(llm.forCall('ws-b', call('ws-b', 'other', 3))).toBeDefined();
  });

  it('a bad answer is not asked again for the same transcript; the next turn is', async () => {
    standIn.reply = () => ({ kind: 'answer', content: '{"summary": 42}' });
    start();
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    await debounceAndSettle();
    timers.advance(60_000);
    await llm.settled();
    expect(standIn.requests).toHaveLength(1);
    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 4));
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(2);
    expect(llm.forCall('ws-a', call('ws-a', 'call1', 4))?.turnsBehind).toBe(0);
  });

  it('a refused connection is a connection failure', async () => {
    const url = standIn.url;
    await standIn.close();
    standIn = await startChatStandIn(); // for afterEach; the service points at the closed port
    start({ url });
    const c = call('ws-a', 'call1', 3);
    llm.transcriptChanged('ws-a', c);
    await debounceAndSettle();
    expect(llm.forCall('ws-a', c)).toBeUndefined();
    expect(await counter('livecalls_llm_requests_total', { result: 'connection' })).toBe(1);
  });

  it('never puts the API key in a log line, even when the server echoes it back', async () => {
    standIn.reply = (req) => ({
      kind: 'raw',
      status: 401,
      body: JSON.stringify({ error: `bad key ${String(req.headers.authorization)}` }),
    });
    start();
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    await debounceAndSettle();
    standIn.reply = (req) => ({ kind: 'answer', content: `not json ${String(req.headers.authorization)}` });
    timers.advance(1_000); // the backoff: then the 401 is retried once
    await llm.settled();
    expect(standIn.requests).toHaveLength(2);
    expect(logged).toHaveLength(2);
    expect(logged.join('\n')).toContain('"result":"malformed"');
    expect(logged.join('\n')).not.toContain('SECRET');
  });
});

describe('LLM insights: debounce, concurrency, rate, workspaces', () => {
  it('several turns in quick succession make one request, for the newest transcript', async () => {
    start();
    for (let n = 1; n <= 6; n++) {
      llm.transcriptChanged('ws-a', call('ws-a', 'call1', n));
      timers.advance(DEBOUNCE / 4);
    }
    await llm.settled();
    expect(standIn.requests).toHaveLength(0);
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.requests[0]?.body.messages?.at(-1)?.content).toContain('(call1 turn 5)');
    expect(llm.forCall('ws-a', call('ws-a', 'call1', 6))?.turnsBehind).toBe(0);
  });

  it('a call that never pauses is still sent, after at most four debounce periods', async () => {
    start();
    for (let n = 1; n <= 10; n++) {
      llm.transcriptChanged('ws-a', call('ws-a', 'call1', n));
      timers.advance(DEBOUNCE - 100);
      await llm.settled();
    }
    expect(standIn.requests.length).toBeGreaterThanOrEqual(2);
    expect(standIn.requests.length).toBeLessThanOrEqual(3);
  });

  it('runs at most `concurrency` requests at once, then the rest as slots free up', async () => {
    standIn.reply = () => ({ kind: 'hold' });
    start({ concurrency: 2 });
    for (let i = 0; i < 5; i++) llm.transcriptChanged(`ws-${i}`, call(`ws-${i}`, `call${i}`, 3));
    timers.advance(DEBOUNCE);
    await vi.waitFor(() => expect(standIn.open()).toBe(2), { timeout: 15_000 });
    expect(await counter('livecalls_llm_deferred_total', { reason: 'concurrency' })).toBe(3);
    standIn.reply = () => ({ kind: 'answer', content: VALID_ANSWER });
    standIn.release();
    await llm.settled();
    expect(standIn.requests).toHaveLength(5);
    expect(standIn.maxOpen()).toBe(2);
    for (let i = 0; i < 5; i++) expect(llm.forCall(`ws-${i}`, call(`ws-${i}`, `call${i}`, 3))).toBeDefined();
  });

  it("holds a workspace to its requests per minute without holding back the others'", async () => {
    start({ ratePerMinute: 2 });
    for (let i = 0; i < 3; i++) llm.transcriptChanged('busy', call('busy', `b${i}`, 3));
    llm.transcriptChanged('quiet', call('quiet', 'q0', 3));
    await debounceAndSettle();
    const sentFor = (marker: string) => standIn.requests.filter((r) => r.body.messages?.at(-1)?.content.includes(`(${marker} turn`)).length;
    expect(sentFor('b0') + sentFor('b1') + sentFor('b2')).toBe(2);
    expect(sentFor('q0')).toBe(1);
    expect(await counter('livecalls_llm_deferred_total', { reason: 'workspace_rate' })).toBe(1);
    timers.advance(30_000); // one request's worth of the minute
    await llm.settled();
    expect(sentFor('b0') + sentFor('b1') + sentFor('b2')).toBe(3);
  });

  it('never mixes workspaces: one call per request, results only for their own workspace', async () => {
    start();
    // The same call id in two workspaces (ids are random in practice; the key must not rely on it).
    llm.transcriptChanged('ws-a', call('ws-a', 'same', 3, 'ALPHA'));
    llm.transcriptChanged('ws-b', call('ws-b', 'same', 3, 'BRAVO'));
    llm.transcriptChanged('ws-b', call('ws-a', 'forged', 3, 'CHARLIE')); // a call of ws-a offered as ws-b's: refused
    standIn.reply = (req) => {
      const text = req.body.messages?.map((m) => m.content).join('\n') ?? '';
      return { kind: 'answer', content: { ...VALID_ANSWER, summary: text.includes('ALPHA') ? 'alpha' : 'bravo' } };
    };
    await debounceAndSettle();
    expect(standIn.requests).toHaveLength(2);
    for (const req of standIn.requests) {
      const text = req.body.messages?.map((m) => m.content).join('\n') ?? '';
      expect(text.includes('ALPHA') !== text.includes('BRAVO')).toBe(true);
      expect(text).not.toContain('CHARLIE');
    }
    expect(llm.forCall('ws-a', call('ws-a', 'same', 3))?.answer.summary).toBe('alpha');
    expect(llm.forCall('ws-b', call('ws-b', 'same', 3))?.answer.summary).toBe('bravo');
    expect(llm.forCall('ws-c', call('ws-c', 'same', 3))).toBeUndefined();
  });

  it('stop abandons requests in flight and schedules nothing more', async () => {
    standIn.reply = () => ({ kind: 'hold' });
    start();
    llm.transcriptChanged('ws-a', call('ws-a', 'call1', 3));
    timers.advance(DEBOUNCE);
    await vi.waitFor(() => expect(standIn.open()).toBe(1), { timeout: 15_000 });
    llm.transcriptChanged('ws-a', call('ws-a', 'call2', 3));
    await llm.stop();
    timers.advance(DEBOUNCE * 10);
    expect(standIn.requests).toHaveLength(1);
    expect(timers.pending()).toBe(0);
    expect(await counter('livecalls_llm_requests_total', { result: 'timeout' })).toBe(0);
  });
});
