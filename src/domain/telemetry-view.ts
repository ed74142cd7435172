/**
 * The agent telemetry of a call in wire shape: what details, the live stream's call frames and outgoing
 * webhooks' call payloads carry beside the call (never in the list item, whose shape is the reference's).
 */
import type { AlertRecord } from './alerts.ts';
import type { Call } from './call.ts';
import type { AgentState, CustomerState, UsageTotals } from './events.ts';
import { agentStateOf, summarize, ZERO_USAGE, type LatencyMetric, type LatencySummary } from './telemetry.ts';
import { iso } from './view.ts';

/** A workspace's prices, per unit, in `currency`; usage of a kind without a price is left out of the estimate. */
export interface Prices {
  currency: string;
  llmPromptPer1k?: number;
  llmCompletionPer1k?: number;
  ttsPer1kChars?: number;
  sttPerMinute?: number;
}

export interface AlertView {
  id: string;
  ruleId: string;
  kind: string;
  message: string;
  firedAt: string;
  clearedAt: string | null;
}

export interface TelemetryView {
  agentState: AgentState | 'closed' | null;
  customerState: CustomerState | null;
  latency: { turns: number } & Record<LatencyMetric, LatencySummary | null>;
  interruptions: { count: number; false: number };
  usage: UsageTotals & { estimatedCost: number | null; currency: string | null };
  errors: { count: number; recent: { at: string; source: string; message: string; recoverable: boolean }[] };
  tools: { count: number; failed: number; recent: { at: string; name: string; ok: boolean; durationMs: number | null }[] };
  alerts: AlertView[];
}

/**
 * The estimated cost of the usage so far; null without prices. Cached prompt tokens are billed as prompt
 * tokens (providers that discount them make this an upper bound).
 */
export function estimateCost(usage: UsageTotals, prices: Prices | null | undefined): number | null {
  if (!prices) return null;
  const parts: [number, number | undefined][] = [
    [usage.llmPromptTokens / 1000, prices.llmPromptPer1k],
    [usage.llmCompletionTokens / 1000, prices.llmCompletionPer1k],
    [usage.ttsCharacters / 1000, prices.ttsPer1kChars],
    [usage.sttSeconds / 60, prices.sttPerMinute],
  ];
  let cost = 0;
  for (const [amount, price] of parts) {
    if (price !== undefined) cost += amount * price;
  }
  return Math.round(cost * 1_000_000) / 1_000_000;
}

export function alertView(a: AlertRecord): AlertView {
  return {
    id: a.id,
    ruleId: a.ruleId,
    kind: a.kind,
    message: a.message,
    firedAt: iso(a.firedAt),
    clearedAt: a.clearedAt === null ? null : iso(a.clearedAt),
  };
}

export function telemetryView(call: Call, prices: Prices | null | undefined): TelemetryView {
  const t = call.telemetry;
  const usage = t?.usage ?? ZERO_USAGE;
  const latency = (metric: LatencyMetric) => (t ? summarize(t.samples[metric]) : null);
  return {
    agentState: agentStateOf(t),
    customerState: t?.customerState?.value ?? null,
    latency: {
      turns: t?.metricTurns ?? 0,
      e2e: latency('e2e'),
      llmTtft: latency('llmTtft'),
      ttsTtfb: latency('ttsTtfb'),
      endOfTurnDelay: latency('endOfTurnDelay'),
      transcriptionDelay: latency('transcriptionDelay'),
    },
    interruptions: { count: t?.interruptions ?? 0, false: t?.falseInterruptions ?? 0 },
    usage: { ...usage, estimatedCost: estimateCost(usage, prices), currency: prices?.currency ?? null },
    errors: {
      count: t?.errorCount ?? 0,
      recent: (t?.recentErrors ?? []).map((e) => ({ at: iso(e.at), source: e.source, message: e.message, recoverable: e.recoverable })),
    },
    tools: {
      count: t?.toolCount ?? 0,
      failed: t?.toolFailures ?? 0,
      recent: (t?.recentTools ?? []).map((r) => ({ at: iso(r.at), name: r.name, ok: r.ok, durationMs: r.durationMs })),
    },
    alerts: (call.alerts?.list ?? []).map(alertView),
  };
}
