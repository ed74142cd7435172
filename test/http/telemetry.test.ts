/**
 * Agent telemetry through the API: the new event types validate (400 naming the field), fold into the call,
 * and show in details (never in the list item, whose shape is the reference's), with the estimated cost from
 * the workspace's prices; Prometheus counts each event once, per agent name.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents } from '../helpers/livekit.ts';
import { LIST_ITEM_FIELDS } from '../helpers/reference.ts';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const post = (room: string, events: Record<string, unknown>[]) => postAgentEvents(t.app, room, events as never, { headers: t.ws.headers });

function telemetryEvents(t0: number): Record<string, unknown>[] {
  return [
    { id: 's1', createdAt: t0, type: 'agent_state', state: 'listening' },
    { id: 'c1', createdAt: t0 + 100, type: 'customer_state', state: 'speaking' },
    {
      id: 'u1',
      createdAt: t0 + 1_000,
      type: 'transcript',
      role: 'customer',
      content: 'Hi there',
      metrics: { endOfTurnDelayMs: 400, transcriptionDelayMs: 120 },
    },
    {
      id: 'a1',
      createdAt: t0 + 2_000,
      type: 'transcript',
      role: 'agent',
      content: 'Hello!',
      metrics: { e2eMs: 900, llmTtftMs: 300, ttsTtfbMs: 200 },
    },
    {
      id: 'a2',
      createdAt: t0 + 4_000,
      type: 'transcript',
      role: 'agent',
      content: 'How can I',
      interrupted: true,
      metrics: { e2eMs: 1_500, llmTtftMs: 500 },
    },
    { id: 'f1', createdAt: t0 + 4_100, type: 'false_interruption', resumed: true },
    {
      id: 'tool1',
      createdAt: t0 + 5_000,
      type: 'tools_executed',
      tools: [
        { name: 'lookup_order', ok: true, durationMs: 80 },
        { name: 'refund', ok: false, error: 'timeout' },
      ],
    },
    {
      id: 'use2',
      createdAt: t0 + 6_000,
      type: 'usage',
      llmPromptTokens: 2_000,
      llmCompletionTokens: 500,
      ttsCharacters: 1_000,
      sttSeconds: 30,
    },
    // An older total arriving late: the larger one stays.
    { id: 'use1', createdAt: t0 + 5_500, type: 'usage', llmPromptTokens: 1_000, llmCompletionTokens: 100 },
    { id: 'e1', createdAt: t0 + 7_000, type: 'agent_error', source: 'llm', message: '429 Too Many Requests', recoverable: true },
    { id: 's2', createdAt: t0 + 8_000, type: 'agent_state', state: 'thinking' },
    { id: 'c2', createdAt: t0 + 8_000, type: 'customer_state', state: 'listening' },
  ];
}

async function callRecord(room: string) {
  const list = (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json();
  const item = list.data.find((c: { roomName: string }) => c.roomName === room);
  return { item, record: (await t.app.inject({ url: `/v2/api/calls/${item.id}`, headers: t.ws.headers })).json() };
}

describe('agent telemetry', () => {
  it('folds states, latency, interruptions, tools, usage and errors into details; the list item keeps its shape', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/v2/api/prices',
      headers: t.ws.headers,
      payload: { llmPromptPer1k: 0.01, llmCompletionPer1k: 0.03, sttPerMinute: 0.02 },
    });
    const res = await post('tele-1', telemetryEvents(t.clock.now - 10_000));
    expect(res.statusCode, res.body).toBe(202);
    const { item, record } = await callRecord('tele-1');
    expect(Object.keys(item).sort()).toEqual([...LIST_ITEM_FIELDS].sort());
    expect(record).toMatchObject({
      agentState: 'thinking',
      customerState: 'listening',
      latency: {
        turns: 2,
        e2e: { last: 1_500, p50: 900, p95: 1_500 },
        llmTtft: { last: 500, p50: 300, p95: 500 },
        ttsTtfb: { last: 200, p50: 200, p95: 200 },
        endOfTurnDelay: { last: 400 },
        transcriptionDelay: { last: 120 },
      },
      interruptions: { count: 1, false: 1 },
      usage: {
        llmPromptTokens: 2_000,
        llmCompletionTokens: 500,
        llmCachedTokens: 0,
        ttsCharacters: 1_000,
        sttSeconds: 30,
        currency: 'USD',
      },
      errors: { count: 1, recent: [{ source: 'llm', message: '429 Too Many Requests', recoverable: true }] },
      tools: {
        count: 2,
        failed: 1,
        recent: [
          { name: 'lookup_order', ok: true, durationMs: 80 },
          { name: 'refund', ok: false, durationMs: null },
        ],
      },
      alerts: [],
    });
    // 2 x 0.01 + 0.5 x 0.03 + 0.5 min x 0.02; TTS has no price, so it is left out.
    expect(record.usage.estimatedCost).toBeCloseTo(0.045, 6);
  });

  it('a closed session shows as closed and the call stays active', async () => {
    const t0 = t.clock.now - 5_000;
    await post('tele-2', [
      { id: 's1', createdAt: t0, type: 'agent_state', state: 'speaking' },
      { id: 'x', createdAt: t0 + 1_000, type: 'session_closed', reason: 'participant_disconnected' },
      { id: 's2', createdAt: t0 + 2_000, type: 'agent_state', state: 'idle' },
    ]);
    const { record } = await callRecord('tele-2');
    expect(record).toMatchObject({ status: 'active', agentState: 'closed', usage: { estimatedCost: null, currency: null } });
  });

  it.each([
    [{ id: 'a', createdAt: 1_800_000_000_000, type: 'agent_state', state: 'dreaming' }, 'body.events.0.state'],
    [{ id: 'a', createdAt: 1_800_000_000_000, type: 'usage', llmPromptTokens: 1.5 }, 'body.events.0.llmPromptTokens'],
    [{ id: 'a', createdAt: 1_800_000_000_000, type: 'usage', tokens: 5 }, 'body.events.0'],
    [
      { id: 'a', createdAt: 1_800_000_000_000, type: 'transcript', role: 'agent', content: 'x', metrics: { e2eMs: -1 } },
      'body.events.0.metrics.e2eMs',
    ],
    [
      { id: 'a', createdAt: 1_800_000_000_000, type: 'transcript', role: 'agent', content: 'x', metrics: { e2eMs: 600_001 } },
      'body.events.0.metrics.e2eMs',
    ],
    [{ id: 'a', createdAt: 1_800_000_000_000, type: 'tools_executed', tools: [] }, 'body.events.0.tools'],
    [
      { id: 'a', createdAt: 1_800_000_000_000, type: 'tools_executed', tools: [{ name: 'x', ok: true, error: 'e'.repeat(501) }] },
      'body.events.0.tools.0.error',
    ],
    [
      { id: 'a', createdAt: 1_800_000_000_000, type: 'agent_error', source: 'llm', message: '', recoverable: false },
      'body.events.0.message',
    ],
    [{ id: 'a', createdAt: 1_800_000_000_000, type: 'session_closed' }, 'body.events.0.reason'],
  ])('refuses %j with a 400 naming %s', async (event, field) => {
    const res = await post('tele-bad', [event]);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe(field);
  });

  it('Prometheus counts each event once per agent name, a redelivery adds nothing', async () => {
    const events = telemetryEvents(t.clock.now - 10_000);
    await post('tele-3', events);
    expect((await post('tele-3', events)).json()).toMatchObject({ applied: 0 });
    const text = await t.services.metrics.registry.metrics();
    expect(text).toContain('livecalls_agent_e2e_latency_seconds_count{agent="unknown"} 2');
    expect(text).toContain('livecalls_agent_llm_ttft_seconds_count{agent="unknown"} 2');
    expect(text).toContain('livecalls_agent_interruptions_total{agent="unknown",false="false"} 1');
    expect(text).toContain('livecalls_agent_interruptions_total{agent="unknown",false="true"} 1');
    expect(text).toContain('livecalls_agent_errors_total{agent="unknown",source="llm"} 1');
    expect(text).toContain('livecalls_agent_tool_calls_total{agent="unknown",result="failed"} 1');
    expect(text).toContain('livecalls_agent_llm_tokens_total{agent="unknown",type="prompt"} 2000');
    expect(text).toContain('livecalls_agent_stt_seconds_total{agent="unknown"} 30');
  });
});
