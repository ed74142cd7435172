/** The telemetry fold: bounded windows and lists that do not depend on delivery order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, newCall, type Call } from '../../../src/domain/call.ts';
import type { CallEvent } from '../../../src/domain/events.ts';
import { MAX_RECENT, MAX_SAMPLES, quantile } from '../../../src/domain/telemetry.ts';
import { telemetryView } from '../../../src/domain/telemetry-view.ts';

const T0 = Date.UTC(2026, 0, 1);

function foldAll(events: readonly CallEvent[]): Call {
  return events.reduce((call, e) => applyEvent(call, e, T0), newCall('c1', 'ws', 'room', T0));
}

const many: CallEvent[] = [
  ...Array.from({ length: MAX_SAMPLES + 15 }, (_, i): CallEvent => ({
    type: 'transcript',
    id: `t${i}`,
    at: T0 + i * 1000,
    role: 'agent',
    content: `turn ${i}`,
    metrics: { e2eMs: (i * 7919) % 3000, llmTtftMs: i },
  })),
  ...Array.from({ length: MAX_RECENT + 5 }, (_, i): CallEvent => ({
    type: 'agent_error',
    id: `e${i}`,
    at: T0 + i * 500,
    source: 'llm',
    message: `error ${i}`,
    recoverable: true,
  })),
  ...Array.from({ length: 8 }, (_, i): CallEvent => ({
    type: 'tools_executed',
    id: `tool${i}`,
    at: T0 + i * 300,
    tools: [
      { name: `a${i}`, ok: true, durationMs: i, error: null },
      { name: `b${i}`, ok: i % 2 === 0, durationMs: null, error: null },
    ],
  })),
  ...[5, 50, 20].map((n, i): CallEvent => ({
    type: 'usage',
    id: `u${i}`,
    at: T0 + i,
    usage: { llmPromptTokens: n * 10, sttSeconds: n / 2 },
  })),
];

describe('telemetry fold', () => {
  it('keeps the newest samples, errors and tools, and the largest usage, whatever the order', () => {
    const expected = telemetryView(foldAll(many), null);
    fc.assert(
      fc.property(fc.shuffledSubarray(many, { minLength: many.length, maxLength: many.length }), (order) => {
        expect(telemetryView(foldAll(order), null)).toEqual(expected);
      }),
      { numRuns: 50 },
    );
    const call = foldAll(many);
    expect(call.telemetry?.samples.e2e).toHaveLength(MAX_SAMPLES);
    expect(call.telemetry?.samples.e2e[0]?.id).toBe('t15');
    expect(expected.latency.turns).toBe(MAX_SAMPLES + 15);
    expect(expected.errors).toMatchObject({ count: MAX_RECENT + 5 });
    expect(expected.errors.recent).toHaveLength(MAX_RECENT);
    expect(expected.errors.recent.at(-1)?.message).toBe(`error ${MAX_RECENT + 4}`);
    expect(expected.tools).toMatchObject({ count: 16, failed: 4 });
    expect(expected.tools.recent.map((t) => t.name).slice(-2)).toEqual(['a7', 'b7']);
    expect(expected.usage).toMatchObject({ llmPromptTokens: 500, sttSeconds: 25 });
  });

  it('p50 and p95 are nearest-rank quantiles of the window', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([5], 0.95)).toBe(5);
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(10);
    expect(quantile(values, 0.95)).toBe(19);
  });

  it('states are last-writer-wins by event time; a closed session stays closed', () => {
    const call = foldAll([
      { type: 'agent_state', id: 'b', at: T0 + 2, state: 'speaking' },
      { type: 'agent_state', id: 'a', at: T0 + 1, state: 'thinking' },
      { type: 'customer_state', id: 'c', at: T0 + 3, state: 'away' },
    ]);
    expect(telemetryView(call, null)).toMatchObject({ agentState: 'speaking', customerState: 'away' });
    const closed = applyEvent(call, { type: 'session_closed', id: 'x', at: T0 + 1, reason: 'error' }, T0);
    const later = applyEvent(closed, { type: 'agent_state', id: 'd', at: T0 + 9, state: 'listening' }, T0);
    expect(telemetryView(later, null).agentState).toBe('closed');
  });
});
