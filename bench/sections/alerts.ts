/**
 * Alerts: what evaluating 20 rules costs, with 1,000 active calls. Measured in process, on the fold itself
 * (the store's I/O is the same with or without rules, so it would only hide the difference):
 *  - the baseline folds every batch of every call as ingest does (events, sentiment) with no rules;
 *  - then the same batches with the workspace's 20 rules (every kind; phrases as text and as patterns);
 *  - the periodic evaluator's pass over the 1,000 calls (which of them are due a dead-air or long-call alert).
 * Costs are this process's CPU time (other work on the machine does not count in it). Each is run several
 * times, the two folds alternating, and the fastest run of each kept; the ratio is against the baseline of the
 * same run.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { createAnalyzer } from '../../src/analysis/index.ts';
import { dueAlerts } from '../../src/alerts/evaluate.ts';
import { compileRules, type AlertRule } from '../../src/alerts/rules.ts';
import { CallService } from '../../src/calls/service.ts';
import { WorkspaceSettings } from '../../src/calls/settings.ts';
import type { Call } from '../../src/domain/call.ts';
import type { CallEvent } from '../../src/domain/events.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import { foldBatch } from '../../src/store/fold-batch.ts';
import type { BenchContext, Row, SectionResult, Target } from '../lib/context.ts';
import path from 'node:path';

const CALLS = 1_000;
const RULES = 20;
/**
 * Allowed CPU the 20 rules add per event. For scale: the fold is a small part of an ingest (HTTP, JSON,
 * validation, the store's commit), which the ingest section measures in hundreds of µs per event.
 */
const MAX_ADDED_US_PER_EVENT = 10;
const EVENTS_PER_BATCH = 8;

export const BENCH_RULES: AlertRule[] = [
  { id: 'quiet', kind: 'dead_air', seconds: 8, enabled: true },
  { id: 'quiet-long', kind: 'dead_air', seconds: 20, enabled: true },
  { id: 'slow', kind: 'latency_p95', ms: 1_500, turns: 5, enabled: true },
  { id: 'slow-long', kind: 'latency_p95', ms: 1_200, turns: 20, enabled: true },
  { id: 'errors', kind: 'agent_error', count: 1, enabled: true },
  { id: 'errors-3', kind: 'agent_error', count: 3, enabled: true },
  { id: 'unhappy', kind: 'negative_streak', turns: 2, enabled: true },
  { id: 'unhappy-3', kind: 'negative_streak', turns: 3, enabled: true },
  { id: 'human', kind: 'human_requested', enabled: true },
  { id: 'long', kind: 'long_call', seconds: 600, enabled: true },
  { id: 'cancel', kind: 'phrase', side: 'customer', text: 'cancel my account', enabled: true },
  { id: 'lawyer', kind: 'phrase', side: 'customer', text: 'my lawyer', enabled: true },
  { id: 'refund', kind: 'phrase', side: 'customer', pattern: '\\brefund(s|ed)?\\b', enabled: true },
  { id: 'card', kind: 'phrase', side: 'any', pattern: '\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b', enabled: true },
  { id: 'swear', kind: 'phrase', side: 'customer', pattern: '\\b(damn|hell|crap)\\b', enabled: true },
  { id: 'promise', kind: 'phrase', side: 'agent', pattern: 'i (promise|guarantee)', enabled: true },
  { id: 'competitor', kind: 'phrase', side: 'any', pattern: '\\b(acme|globex|initech)( corp)?\\b', enabled: true },
  { id: 'sorry', kind: 'phrase', side: 'agent', text: 'i am sorry', enabled: true },
  { id: 'supervisor', kind: 'phrase', side: 'customer', pattern: 'supervisor|manager', enabled: true },
  { id: 'bye', kind: 'phrase', side: 'customer', text: 'goodbye', enabled: true },
];

const CUSTOMER = ['I need to change my booking', 'It still does not work', 'Can I get a refund for this?', 'Thanks, that helps'];
const AGENT = ['Let me check that for you.', 'I have updated your booking.', 'Could you confirm your reference?', 'Anything else?'];

/** One exchange of a call, as the bridge sends it in one batch. */
function exchange(room: string, k: number, at: number): CallEvent[] {
  const id = (s: string) => `agent:${room}:${k}:${s}`;
  return [
    { type: 'customer_state', id: id('cs1'), at, state: 'speaking' },
    {
      type: 'transcript',
      id: id('c'),
      at: at + 1,
      role: 'customer',
      content: CUSTOMER[k % 4] as string,
      metrics: { endOfTurnDelayMs: 400 },
    },
    { type: 'customer_state', id: id('cs2'), at: at + 2, state: 'listening' },
    { type: 'agent_state', id: id('as1'), at: at + 3, state: 'thinking' },
    { type: 'agent_state', id: id('as2'), at: at + 4, state: 'speaking' },
    {
      type: 'transcript',
      id: id('a'),
      at: at + 5,
      role: 'agent',
      content: AGENT[k % 4] as string,
      metrics: { e2eMs: 700 + ((k * 331) % 1200), llmTtftMs: 300, ttsTtfbMs: 150 },
    },
    { type: 'agent_state', id: id('as3'), at: at + 6, state: 'listening' },
    { type: 'usage', id: id('u'), at: at + 7, usage: { llmPromptTokens: 500 * (k + 1), llmCompletionTokens: 80 * (k + 1) } },
  ];
}

const fastest = (values: number[]): number => Math.min(...values);

/** This process's CPU time (user + system), ms: what the fold costs, not how long other processes held the core. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export async function runAlerts(ctx: BenchContext): Promise<SectionResult> {
  const dir = path.join(ctx.dir, 'alerts');
  const stores = createEmbeddedStores(dir);
  try {
    const log = pino({ level: 'silent' });
    const T0 = Date.UTC(2026, 0, 1);
    const service = new CallService(stores.calls, stores.tenants, createAnalyzer(), () => T0, createMetrics(false), log);
    const settings = new WorkspaceSettings(stores.tenants, { ttlMs: 60_000, now: () => T0, log });
    service.settings = settings;
    settings.setRules('ws_rules', { version: 1, rules: BENCH_RULES.slice(0, RULES) });
    const exchanges = ctx.quick ? 3 : 6;
    const batches: { room: string; events: CallEvent[] }[] = [];
    for (let k = 0; k < exchanges; k++)
      for (let c = 0; c < CALLS; c++) batches.push({ room: `room-${c}`, events: exchange(`room-${c}`, k, T0 + k * 10_000 + c) });

    /** Folds every batch of every call into a fresh set of calls; µs per batch. */
    const foldAll = (workspaceId: string): { usPerBatch: number; calls: Map<string, Call> } => {
      const calls = new Map<string, Call>();
      const began = cpuMs();
      for (const { room, events } of batches) {
        const snapshot = {
          active: calls.get(room),
          latestEnded: undefined,
          bySid: new Map<string, Call>(),
          byClaim: new Map<string, Call>(),
        };
        const folded = foldBatch(workspaceId, room, snapshot, events, () => false, service.folder, T0 + 60_000);
        const after = folded.changes.at(-1)?.after;
        if (after) calls.set(room, after);
      }
      return { usPerBatch: ((cpuMs() - began) * 1000) / batches.length, calls };
    };

    const rounds = ctx.quick ? 5 : 9;
    const baseline: number[] = [];
    const withRules: number[] = [];
    let last: Map<string, Call> = new Map();
    foldAll('ws_none'); // warm-up
    for (let r = 0; r < rounds; r++) {
      baseline.push(foldAll('ws_none').usPerBatch);
      const run = foldAll('ws_rules');
      withRules.push(run.usPerBatch);
      last = run.calls;
    }
    const compiled = compileRules({ version: 1, rules: BENCH_RULES.slice(0, RULES) });
    const passes: number[] = [];
    const active = [...last.values()];
    for (let r = 0; r < rounds * 4; r++) {
      const began = cpuMs();
      let due = 0;
      for (const call of active) due += dueAlerts(call, compiled, T0 + 700_000).length;
      passes.push(cpuMs() - began);
      if (due === 0) throw new Error('the pass found nothing due: the bench calls should be waiting');
    }
    const fired = active.reduce((n, c) => n + (c.alerts?.list.length ?? 0), 0);
    const base = fastest(baseline);
    const rules = fastest(withRules);
    const ratio = rules / base;
    const pass = fastest(passes);
    const events = batches.length * (batches[0]?.events.length ?? 0);
    ctx.log(
      `  alerts: fold ${base.toFixed(1)} µs/batch without rules, ${rules.toFixed(1)} with ${RULES} (x${ratio.toFixed(2)}); periodic pass ${pass.toFixed(2)} ms for ${CALLS} calls; ${fired} alerts fired`,
    );
    const rows: Row[] = [
      {
        section: 'alerts',
        backend: 'baseline',
        metric: `fold, no rules (${CALLS} calls, ${events.toLocaleString('en-US')} events)`,
        value: Math.round(base * 10) / 10,
        unit: 'µs/batch',
        detail: `${EVENTS_PER_BATCH} events per batch, sentiment included; CPU time`,
      },
      {
        section: 'alerts',
        backend: 'in-process',
        metric: `fold, ${RULES} rules`,
        value: Math.round(rules * 10) / 10,
        unit: 'µs/batch',
        detail: `x${ratio.toFixed(2)} the baseline; +${(rules - base).toFixed(1)} µs per batch for evaluation`,
      },
      {
        section: 'alerts',
        backend: 'in-process',
        metric: `periodic pass, ${CALLS} calls x ${RULES} rules`,
        value: Math.round(pass * 100) / 100,
        unit: 'ms',
        detail: `${((pass * 1000) / CALLS).toFixed(2)} µs per call`,
      },
    ];
    const addedPerEvent = (rules - base) / EVENTS_PER_BATCH;
    const targets: Target[] = [
      {
        section: 'alerts',
        backend: 'embedded',
        target: `${RULES} rules add <= ${MAX_ADDED_US_PER_EVENT} µs CPU per event (1,000 calls)`,
        measured: `${addedPerEvent.toFixed(1)} µs (x${ratio.toFixed(2)} the fold without rules)`,
        pass: addedPerEvent <= MAX_ADDED_US_PER_EVENT,
      },
    ];
    return { rows, targets, raw: { baselineUsPerBatch: baseline, withRulesUsPerBatch: withRules, passMs: passes, fired, events } };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
