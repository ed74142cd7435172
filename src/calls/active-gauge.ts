/**
 * `livecalls_active_calls{agent}`: the calls active right now, per agent name, read from the store when
 * Prometheus scrapes (so every instance of a scaled-out deployment reports the same, shared count, not the
 * calls it happened to ingest). Agent names are bounded like the telemetry's (AgentLabels). A store that does
 * not answer within the time limit leaves the last values in place rather than reporting zero calls.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Stores } from '../store/types.ts';
import { within } from '../store/unavailable.ts';
import { AgentLabels } from './telemetry-metrics.ts';

export function registerActiveCallsGauge(registry: Registry, stores: Pick<Stores, 'tenants' | 'calls'>, timeoutMs = 1_000): Gauge<'agent'> {
  const labels = new AgentLabels();
  async function count(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const workspace of await stores.tenants.listWorkspaces()) {
      for (const view of await stores.calls.listViews(workspace.id)) {
        const agent = labels.of(view.aiAgentName);
        counts.set(agent, (counts.get(agent) ?? 0) + 1);
      }
    }
    return counts;
  }
  return new Gauge({
    name: 'livecalls_active_calls',
    help: 'Calls active now, per agent name (at most 200 names, the rest "other"; "unknown" when the agent is not named)',
    labelNames: ['agent'],
    registers: [registry],
    async collect() {
      let counts: Map<string, number>;
      try {
        counts = await within('the store', timeoutMs, count());
      } catch {
        return;
      }
      this.reset();
      for (const [agent, n] of counts) this.set({ agent }, n);
    },
  });
}
