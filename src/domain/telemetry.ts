/**
 * The agent's live telemetry of a call: states, latency, interruptions, usage, errors and tool calls.
 *
 * Why it is shaped like this (the same rule as the call: the result must not depend on arrival order, and the
 * call must stay small however long it runs):
 *  - states are last-writer-wins by (event time, id); a closed session stays closed;
 *  - latency keeps, per metric, the `MAX_SAMPLES` most recent samples by (event time, id): a late, older
 *    sample falls outside the window instead of pushing a newer one out, so any order gives the same window;
 *  - usage is session totals so far, so each field keeps the largest value seen;
 *  - counters count events, which the store applies once each (duplicates are dropped before folding);
 *  - recent errors and tool calls are the `MAX_RECENT` newest by (event time, id).
 */
import type { AgentErrorSource, AgentState, CallEvent, CustomerState, ToolRun, TurnMetrics, UsageTotals } from './events.ts';

export interface Stamp<T> {
  value: T;
  at: number;
  id: string;
}

export interface Sample {
  at: number;
  id: string;
  value: number;
}

export const LATENCY_METRICS = ['e2e', 'llmTtft', 'ttsTtfb', 'endOfTurnDelay', 'transcriptionDelay'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

const METRIC_FIELD: Record<LatencyMetric, keyof TurnMetrics> = {
  e2e: 'e2eMs',
  llmTtft: 'llmTtftMs',
  ttsTtfb: 'ttsTtfbMs',
  endOfTurnDelay: 'endOfTurnDelayMs',
  transcriptionDelay: 'transcriptionDelayMs',
};

export interface RecentError {
  at: number;
  id: string;
  source: AgentErrorSource;
  message: string;
  recoverable: boolean;
}

export interface RecentTool {
  at: number;
  id: string;
  name: string;
  ok: boolean;
  durationMs: number | null;
}

export interface Telemetry {
  agentState: Stamp<AgentState> | null;
  /** The session's close reason, once the agent closed it (the room may still be open). */
  closed: Stamp<string> | null;
  customerState: Stamp<CustomerState> | null;
  /** Per metric, the most recent samples (oldest first), at most `MAX_SAMPLES`. */
  samples: Record<LatencyMetric, Sample[]>;
  /** Agent turns that carried any metric. */
  metricTurns: number;
  interruptions: number;
  falseInterruptions: number;
  usage: UsageTotals;
  errorCount: number;
  recentErrors: RecentError[];
  toolCount: number;
  toolFailures: number;
  recentTools: RecentTool[];
}

/**
 * Samples kept per metric: enough for a p95 and for "the last K turns" rules (K is at most this), few enough
 * that a long call's state stays a few kB (it is rewritten with every batch).
 */
export const MAX_SAMPLES = 30;
/** Recent errors and tool calls kept on the call. */
export const MAX_RECENT = 10;

export const ZERO_USAGE: UsageTotals = { llmPromptTokens: 0, llmCompletionTokens: 0, llmCachedTokens: 0, ttsCharacters: 0, sttSeconds: 0 };

export function emptyTelemetry(): Telemetry {
  return {
    agentState: null,
    closed: null,
    customerState: null,
    samples: { e2e: [], llmTtft: [], ttsTtfb: [], endOfTurnDelay: [], transcriptionDelay: [] },
    metricTurns: 0,
    interruptions: 0,
    falseInterruptions: 0,
    usage: { ...ZERO_USAGE },
    errorCount: 0,
    recentErrors: [],
    toolCount: 0,
    toolFailures: 0,
    recentTools: [],
  };
}

function byTime(a: { at: number; id: string }, b: { at: number; id: string }): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Inserts in (at, id) order, keeps the newest `max`; an entry with an id already present is ignored. */
function insertRecent<T extends { at: number; id: string }>(list: readonly T[], entry: T, max: number): T[] {
  if (list.some((e) => e.id === entry.id)) return list as T[];
  const first = list[0];
  if (list.length >= max && first && byTime(entry, first) < 0) return list as T[];
  const next = [...list, entry].sort(byTime);
  return next.length > max ? next.slice(next.length - max) : next;
}

export function stamp<T>(current: Stamp<T> | null, value: T, at: number, id: string): Stamp<T> {
  if (!current || at > current.at || (at === current.at && id > current.id)) return { value, at, id };
  return current;
}

export function addTurnMetrics(t: Telemetry, id: string, at: number, agentTurn: boolean, metrics: TurnMetrics): Telemetry {
  const samples = { ...t.samples };
  let any = false;
  for (const metric of LATENCY_METRICS) {
    const value = metrics[METRIC_FIELD[metric]];
    if (value === undefined) continue;
    any = true;
    samples[metric] = insertRecent(samples[metric], { at, id, value }, MAX_SAMPLES);
  }
  return { ...t, samples, metricTurns: t.metricTurns + (any && agentTurn ? 1 : 0) };
}

export function addUsage(t: Telemetry, usage: Partial<UsageTotals>): Telemetry {
  const merged = { ...t.usage };
  for (const key of Object.keys(merged) as (keyof UsageTotals)[]) merged[key] = Math.max(merged[key], usage[key] ?? 0);
  return { ...t, usage: merged };
}

export function addError(t: Telemetry, e: RecentError): Telemetry {
  return { ...t, errorCount: t.errorCount + 1, recentErrors: insertRecent(t.recentErrors, e, MAX_RECENT) };
}

export function addTools(t: Telemetry, id: string, at: number, tools: readonly ToolRun[]): Telemetry {
  let recentTools = t.recentTools;
  tools.forEach((tool, i) => {
    // Ids order the tools of one event as the agent listed them.
    const entry = { at, id: `${id}#${String(i).padStart(2, '0')}`, name: tool.name, ok: tool.ok, durationMs: tool.durationMs };
    recentTools = insertRecent(recentTools, entry, MAX_RECENT);
  });
  return {
    ...t,
    toolCount: t.toolCount + tools.length,
    toolFailures: t.toolFailures + tools.filter((tool) => !tool.ok).length,
    recentTools,
  };
}

export type TelemetryEvent = Extract<
  CallEvent,
  {
    type:
      | 'transcript'
      | 'agent_state'
      | 'customer_state'
      | 'false_interruption'
      | 'tools_executed'
      | 'usage'
      | 'agent_error'
      | 'session_closed';
  }
>;

/**
 * An agent event's id without its `agent:<room>:` scope: every agent event of a call shares it, so it orders
 * and tells entries apart just as well, and the call's state does not repeat the room name in every sample.
 */
export function localId(id: string): string {
  return id.startsWith('agent:') ? id.slice(id.indexOf(':', 6) + 1) : id;
}

/** Folds one event into the telemetry; returns a new object (the input is shared with the call before). */
export function applyTelemetry(t: Telemetry, e: TelemetryEvent): Telemetry {
  const event = { ...e, id: localId(e.id) };
  switch (event.type) {
    case 'transcript': {
      const counted = event.interrupted ? { ...t, interruptions: t.interruptions + 1 } : t;
      return event.metrics ? addTurnMetrics(counted, event.id, event.at, event.role === 'agent', event.metrics) : counted;
    }
    case 'agent_state':
      return { ...t, agentState: stamp(t.agentState, event.state, event.at, event.id) };
    case 'customer_state':
      return { ...t, customerState: stamp(t.customerState, event.state, event.at, event.id) };
    case 'false_interruption':
      return { ...t, falseInterruptions: t.falseInterruptions + 1 };
    case 'tools_executed':
      return addTools(t, event.id, event.at, event.tools);
    case 'usage':
      return addUsage(t, event.usage);
    case 'agent_error':
      return addError(t, { at: event.at, id: event.id, source: event.source, message: event.message, recoverable: event.recoverable });
    case 'session_closed': {
      // The earliest close wins: the session closes once.
      const c = t.closed;
      const earlier = !c || event.at < c.at || (event.at === c.at && event.id < c.id);
      return earlier ? { ...t, closed: { value: event.reason, at: event.at, id: event.id } } : t;
    }
  }
}

/** The value at quantile `q` (0..1) of the values, nearest rank; null for none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export interface LatencySummary {
  last: number;
  p50: number;
  p95: number;
}

export function summarize(samples: readonly Sample[]): LatencySummary | null {
  const last = samples.at(-1);
  if (!last) return null;
  const values = samples.map((s) => s.value);
  return { last: last.value, p50: quantile(values, 0.5) ?? last.value, p95: quantile(values, 0.95) ?? last.value };
}

/** The agent's state as the API shows it: closed once the session closed. */
export function agentStateOf(t: Telemetry | undefined): AgentState | 'closed' | null {
  if (!t) return null;
  if (t.closed) return 'closed';
  return t.agentState?.value ?? null;
}
