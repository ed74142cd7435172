/**
 * Prometheus metrics of agent telemetry, per agent name.
 *
 * Why it counts from committed results: a retried delivery is dropped by the store before it is folded, so
 * only the ids the store applied are counted (once each, whichever instance took them). Cumulative usage is
 * counted as the growth of the call's totals, so a late, smaller total adds nothing.
 *
 * Why the names are bounded: an agent name is whatever a room's metadata or an agent says, so the first
 * `MAX_AGENT_LABELS` names seen by this process get their own series and the rest share "other".
 */
import type { Call } from '../domain/call.ts';
import type { CallEvent } from '../domain/events.ts';
import { ZERO_USAGE } from '../domain/telemetry.ts';
import { agentName } from '../domain/view.ts';
import type { Metrics } from '../metrics.ts';
import type { IngestResult } from '../store/types.ts';

export const MAX_AGENT_LABELS = 200;
const MAX_LABEL_LENGTH = 64;

export class AgentLabels {
  private readonly names = new Set<string>();

  constructor(private readonly max = MAX_AGENT_LABELS) {}

  of(name: string): string {
    const label = name.slice(0, MAX_LABEL_LENGTH) || 'unknown';
    if (this.names.has(label)) return label;
    if (this.names.size >= this.max) return 'other';
    this.names.add(label);
    return label;
  }
}

function usageGrowth(metrics: Metrics, agent: string, before: Call | undefined, after: Call): void {
  const was = before?.telemetry?.usage ?? ZERO_USAGE;
  const now = after.telemetry?.usage ?? ZERO_USAGE;
  if (was === now) return;
  const grow = (a: number, b: number) => Math.max(0, b - a);
  const tokens = {
    prompt: grow(was.llmPromptTokens, now.llmPromptTokens),
    completion: grow(was.llmCompletionTokens, now.llmCompletionTokens),
    cached: grow(was.llmCachedTokens, now.llmCachedTokens),
  };
  for (const [type, n] of Object.entries(tokens)) if (n > 0) metrics.agentLlmTokens.inc({ agent, type }, n);
  const chars = grow(was.ttsCharacters, now.ttsCharacters);
  if (chars > 0) metrics.agentTtsCharacters.inc({ agent }, chars);
  const seconds = grow(was.sttSeconds, now.sttSeconds);
  if (seconds > 0) metrics.agentSttSeconds.inc({ agent }, seconds);
}

/** Observes a committed batch of one room. */
export function observeTelemetry(metrics: Metrics, labels: AgentLabels, events: readonly CallEvent[], result: IngestResult): void {
  if (result.applied === 0 || result.changes.length === 0) return;
  const applied = new Set(result.appliedIds ?? []);
  // A room's batch goes to its call (a superseded call only receives its end): the last change names the agent.
  const last = result.changes.at(-1)?.after;
  const agent = labels.of(last ? agentName(last) : '');
  for (const event of events) {
    if (!applied.has(event.id)) continue;
    switch (event.type) {
      case 'transcript':
        if (event.interrupted) metrics.agentInterruptions.inc({ agent, false: 'false' });
        if (event.metrics?.e2eMs !== undefined) metrics.agentE2eLatency.observe({ agent }, event.metrics.e2eMs / 1000);
        if (event.metrics?.llmTtftMs !== undefined) metrics.agentLlmTtft.observe({ agent }, event.metrics.llmTtftMs / 1000);
        break;
      case 'false_interruption':
        metrics.agentInterruptions.inc({ agent, false: 'true' });
        break;
      case 'agent_error':
        metrics.agentErrors.inc({ agent, source: event.source });
        break;
      case 'tools_executed':
        for (const tool of event.tools) metrics.agentToolCalls.inc({ agent, result: tool.ok ? 'ok' : 'failed' });
        break;
      default:
        break;
    }
  }
  for (const { before, after } of result.changes) {
    const callAgent = after === last ? agent : labels.of(agentName(after));
    usageGrowth(metrics, callAgent, before, after);
    const known = new Set(before?.alerts?.list.map((a) => a.id));
    for (const alert of after.alerts?.list ?? []) if (!known.has(alert.id)) metrics.alertsFired.inc({ kind: alert.kind });
  }
}
