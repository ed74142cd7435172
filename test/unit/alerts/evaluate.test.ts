/** Alert evaluation: once per condition episode, clearing, rules removed, time-based rules due. */
import { describe, expect, it } from 'vitest';
import { dueAlerts, evaluateAlerts } from '../../../src/alerts/evaluate.ts';
import { compileRules, normalize, type AlertRule } from '../../../src/alerts/rules.ts';
import { applyEvent, newCall, type Call } from '../../../src/domain/call.ts';
import type { CallEvent } from '../../../src/domain/events.ts';

const T0 = Date.UTC(2026, 0, 1);
const rulesOf = (rules: AlertRule[]) => compileRules({ version: 1, rules });

/** Folds a batch and evaluates, as the service's fold does. */
function batch(call: Call, events: CallEvent[], rules: AlertRule[], now: number): Call {
  const after = events.reduce((c, e) => applyEvent(c, e, now), call);
  return evaluateAlerts(call, after, rulesOf(rules), now);
}

const say = (id: string, at: number, role: 'agent' | 'customer', content: string): CallEvent => ({
  type: 'transcript',
  id,
  at,
  role,
  content,
});

describe('alert evaluation', () => {
  it('a phrase fires once per call, on its side only', () => {
    const rules: AlertRule[] = [{ id: 'p', kind: 'phrase', side: 'customer', text: 'cancel my account', enabled: true }];
    let call = newCall('c', 'ws', 'r', T0);
    call = batch(call, [say('a', T0, 'agent', 'Shall I cancel my account for you?')], rules, T0);
    expect(call.alerts?.list ?? []).toHaveLength(0);
    call = batch(call, [say('b', T0 + 1, 'customer', 'Please CANCEL my   account.')], rules, T0 + 1);
    call = batch(call, [say('c', T0 + 2, 'customer', 'cancel my account now')], rules, T0 + 2);
    expect(call.alerts?.list).toMatchObject([{ id: 'al_c_p_1', ruleId: 'p', kind: 'phrase', clearedAt: null, firedAt: T0 + 1 }]);
    expect(call.alerts?.list[0]?.message).toContain('Please CANCEL');
  });

  it('text matches whole words in order, whatever the case', () => {
    expect(normalize('Cancel, my account!')).toContain(normalize('cancel my account'));
    expect(normalize('cancellation')).not.toContain(normalize('cancel'));
  });

  it('agent errors fire at the count and never clear; a disabled or removed rule clears', () => {
    const rules: AlertRule[] = [{ id: 'e', kind: 'agent_error', count: 2, enabled: true }];
    const err = (id: string, at: number): CallEvent => ({ type: 'agent_error', id, at, source: 'llm', message: '429', recoverable: true });
    let call = batch(newCall('c', 'ws', 'r', T0), [err('1', T0)], rules, T0);
    expect(call.alerts).toBeUndefined();
    call = batch(call, [err('2', T0 + 1)], rules, T0 + 1);
    expect(call.alerts?.list).toMatchObject([{ ruleId: 'e', clearedAt: null, message: '2 agent errors (latest: llm: 429)' }]);
    call = batch(call, [err('3', T0 + 2)], rules, T0 + 2);
    expect(call.alerts?.list).toHaveLength(1);
    call = batch(call, [err('4', T0 + 3)], [{ ...rules[0]!, enabled: false } as AlertRule], T0 + 3);
    expect(call.alerts?.list[0]?.clearedAt).toBe(T0 + 3);
  });

  it('dead air is due after N s of waiting, and clears when the waiting ends, not when a clock disagrees', () => {
    const rules = rulesOf([{ id: 'd', kind: 'dead_air', seconds: 10, enabled: true }]);
    let call = newCall('c', 'ws', 'r', T0);
    call = applyEvent(call, { type: 'agent_state', id: 's1', at: T0, state: 'listening' }, T0);
    call = applyEvent(call, { type: 'customer_state', id: 'c1', at: T0 + 1_000, state: 'listening' }, T0);
    expect(dueAlerts(call, rules, T0 + 10_999)).toEqual([]);
    const due = dueAlerts(call, rules, T0 + 11_000);
    expect(due).toEqual([{ ruleId: 'd', kind: 'dead_air', message: 'Customer waiting for more than 10 s', episode: 1 }]);
    const fired = applyEvent(call, { type: 'alert_fired', id: 'x', at: T0 + 11_000, callId: 'c', ...due[0]! }, T0 + 11_000);
    // The alert is not activity: a silent call still goes stale on time.
    expect(fired.lastActivityAt).toBe(call.lastActivityAt);
    // The same episode again (another instance) changes nothing; a stale episode neither.
    expect(applyEvent(fired, { type: 'alert_fired', id: 'y', at: T0 + 12_000, callId: 'c', ...due[0]! }, T0).alerts).toEqual(fired.alerts);
    // An instance whose clock is behind evaluates the call: still waiting, so the alert stays open.
    expect(evaluateAlerts(call, fired, rules, T0 + 5_000).alerts?.list[0]?.clearedAt).toBeNull();
    expect(dueAlerts(fired, rules, T0 + 20_000)).toEqual([]);
    const thinking = applyEvent(fired, { type: 'agent_state', id: 's2', at: T0 + 13_000, state: 'thinking' }, T0 + 13_000);
    const cleared = evaluateAlerts(fired, thinking, rules, T0 + 13_000);
    expect(cleared.alerts?.list[0]?.clearedAt).toBe(T0 + 13_000);
    // Waiting again later is a new episode.
    const again = applyEvent(cleared, { type: 'agent_state', id: 's3', at: T0 + 14_000, state: 'listening' }, T0 + 14_000);
    expect(dueAlerts(again, rules, T0 + 25_000)).toMatchObject([{ episode: 2 }]);
  });

  it('a negative streak needs the last N customer turns negative; long calls are due after T', () => {
    const rules = rulesOf([
      { id: 'n', kind: 'negative_streak', turns: 2, enabled: true },
      { id: 'l', kind: 'long_call', seconds: 60, enabled: true },
    ]);
    const base = newCall('c', 'ws', 'r', T0);
    const sad = { ...base, sentimentTrend: [0.4, -0.5, -0.6] };
    expect(evaluateAlerts(base, sad, rules, T0).alerts?.list).toMatchObject([{ ruleId: 'n' }]);
    const recovering = { ...sad, sentimentTrend: [-0.5, -0.6, 0.2] };
    expect(evaluateAlerts(base, recovering, rules, T0).alerts).toBeUndefined();
    expect(dueAlerts(base, rules, T0 + 59_999)).toEqual([]);
    expect(dueAlerts(base, rules, T0 + 60_000)).toMatchObject([{ ruleId: 'l', kind: 'long_call' }]);
  });
});

describe('human requested', () => {
  const rules = rulesOf([{ id: 'h', kind: 'human_requested', enabled: true }]);
  const base = newCall('c', 'ws', 'r', T0);

  it('fires on a transfer request or a customer asking for a person, not on frustration alone', () => {
    const asked = applyEvent(base, say('x', T0, 'customer', 'Can I speak to a real person please'), T0);
    expect(evaluateAlerts(base, asked, rules, T0).alerts?.list).toMatchObject([
      { ruleId: 'h', message: expect.stringContaining('asked for a human') },
    ]);
    const transfer = applyEvent(base, { type: 'transfer_requested', id: 't', at: T0, reason: 'billing dispute' }, T0);
    expect(evaluateAlerts(base, transfer, rules, T0).alerts?.list[0]?.message).toBe('Transfer requested: billing dispute');
    // The sentiment's escalation signal from words of frustration: no hand-off was asked for.
    const fedUp = applyEvent(base, say('z', T0, 'customer', 'This is ridiculous, I am fed up'), T0);
    const escalating = { ...fedUp, sentimentSignals: ['escalation'] };
    expect(evaluateAlerts(base, escalating, rules, T0).alerts).toBeUndefined();
    const agentSays = applyEvent(base, say('y', T0, 'agent', 'You can speak to a real person tomorrow'), T0);
    expect(evaluateAlerts(base, agentSays, rules, T0).alerts).toBeUndefined();
  });
});
