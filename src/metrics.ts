/** Prometheus metrics (prom-client), one registry per service instance so tests never share counters. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { patternBudgetSkips } from './alerts/rules.ts';

export interface Metrics {
  registry: Registry;
  alertPatternSkips: Counter;
  eventsIngested: Counter<'source' | 'result'>;
  webhooksIgnored: Counter<'reason'>;
  callsExpired: Counter;
  changeListenerFailures: Counter<'listener'>;
  streamClients: Gauge;
  streamOverflows: Counter;
  webhookDeliveries: Counter<'result'>;
  webhookRelayDropped: Counter;
  archiveFailures: Counter;
  historyPurged: Counter;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  ingestLag: Histogram<'source'>;
  llmRequests: Counter<'result'>;
  llmRequestDuration: Histogram<'result'>;
  llmDeferred: Counter<'reason'>;
  /** Agent telemetry, per agent name (bounded, see calls/telemetry-metrics.ts). */
  agentE2eLatency: Histogram<'agent'>;
  agentLlmTtft: Histogram<'agent'>;
  agentInterruptions: Counter<'agent' | 'false'>;
  agentErrors: Counter<'agent' | 'source'>;
  agentToolCalls: Counter<'agent' | 'result'>;
  agentLlmTokens: Counter<'agent' | 'type'>;
  agentTtsCharacters: Counter<'agent'>;
  agentSttSeconds: Counter<'agent'>;
  alertsFired: Counter<'kind'>;
}

const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

export function createMetrics(defaults = true): Metrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  // Each registry counts the skips from its own creation on.
  let skipsSeen = patternBudgetSkips.count;
  return {
    registry,
    alertPatternSkips: new Counter({
      name: 'livecalls_alert_pattern_budget_skips_total',
      help: "Phrase-pattern matches given up because the workspace's pattern budget was spent (its patterns are too costly for its turns)",
      registers: [registry],
      collect() {
        // Counted where patterns run (src/alerts/rules.ts), in this process; read at scrape time.
        const now = patternBudgetSkips.count;
        if (now > skipsSeen) this.inc(now - skipsSeen);
        skipsSeen = now;
      },
    }),
    eventsIngested: new Counter({
      name: 'livecalls_events_total',
      help: 'Call events received, by source (livekit, agent, api) and result (applied, duplicate)',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
    webhooksIgnored: new Counter({
      name: 'livecalls_webhooks_ignored_total',
      help: 'LiveKit webhooks acknowledged but ignored, by reason (unknown_workspace, unsupported_event, no_room)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    callsExpired: new Counter({
      name: 'livecalls_calls_expired_total',
      help: 'Active calls ended because no event arrived within LIVECALLS_STALE_AFTER',
      registers: [registry],
    }),
    changeListenerFailures: new Counter({
      name: 'livecalls_change_listener_failures_total',
      help: 'Committed call changes a listener (live stream, outgoing webhooks) failed to take',
      labelNames: ['listener'],
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: 'livecalls_stream_clients',
      help: 'Live stream clients (SSE and WebSocket) connected to this instance',
      registers: [registry],
    }),
    streamOverflows: new Counter({
      name: 'livecalls_stream_overflows_total',
      help: 'Live stream clients disconnected because they fell too far behind',
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'livecalls_webhook_deliveries_total',
      help: 'Outgoing webhook attempts by result (delivered, retry, failed: attempts ran out)',
      labelNames: ['result'],
      registers: [registry],
    }),
    webhookRelayDropped: new Counter({
      name: 'livecalls_webhook_relay_dropped_total',
      help: 'Committed webhook news dropped because the outbox refused it for a reason other than an outage (logged with the error)',
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'livecalls_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern (bounded: the registered routes, or "unmatched") and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ingestLag: new Histogram({
      name: 'livecalls_ingest_lag_seconds',
      help: "From an event's own time (its source's clock) to its commit here, by source (livekit, agent, api)",
      labelNames: ['source'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    agentE2eLatency: new Histogram({
      name: 'livecalls_agent_e2e_latency_seconds',
      help: "Agent turns' end-to-end response time (the customer stops speaking to the agent's first audio), by agent name",
      labelNames: ['agent'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    agentLlmTtft: new Histogram({
      name: 'livecalls_agent_llm_ttft_seconds',
      help: "Agent turns' LLM time to first token, by agent name",
      labelNames: ['agent'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    agentInterruptions: new Counter({
      name: 'livecalls_agent_interruptions_total',
      help: 'Agent turns the customer interrupted (false="false"), and false interruptions the agent resumed from (false="true"), by agent name',
      labelNames: ['agent', 'false'],
      registers: [registry],
    }),
    agentErrors: new Counter({
      name: 'livecalls_agent_errors_total',
      help: 'Errors the agent reported, by agent name and source (llm, stt, tts, realtime, other)',
      labelNames: ['agent', 'source'],
      registers: [registry],
    }),
    agentToolCalls: new Counter({
      name: 'livecalls_agent_tool_calls_total',
      help: 'Tool calls the agent ran, by agent name and result (ok, failed)',
      labelNames: ['agent', 'result'],
      registers: [registry],
    }),
    agentLlmTokens: new Counter({
      name: 'livecalls_agent_llm_tokens_total',
      help: 'LLM tokens the agent used, by agent name and type (prompt, completion, cached)',
      labelNames: ['agent', 'type'],
      registers: [registry],
    }),
    agentTtsCharacters: new Counter({
      name: 'livecalls_agent_tts_characters_total',
      help: 'Characters the agent synthesised, by agent name',
      labelNames: ['agent'],
      registers: [registry],
    }),
    agentSttSeconds: new Counter({
      name: 'livecalls_agent_stt_seconds_total',
      help: 'Seconds of audio the agent transcribed, by agent name',
      labelNames: ['agent'],
      registers: [registry],
    }),
    alertsFired: new Counter({
      name: 'livecalls_alerts_fired_total',
      help: 'Alerts fired on calls, by rule kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    archiveFailures: new Counter({
      name: 'livecalls_archive_failures_total',
      help: 'Ended calls the archive sweep could not copy (skipped, left pending, retried on the next sweep)',
      registers: [registry],
    }),
    llmRequests: new Counter({
      name: 'livecalls_llm_requests_total',
      help: 'LLM insight requests by result (ok, timeout, rate_limited, http_error, connection, malformed, schema); anything but ok falls back to the offline insights',
      labelNames: ['result'],
      registers: [registry],
    }),
    llmRequestDuration: new Histogram({
      name: 'livecalls_llm_request_duration_seconds',
      help: 'LLM insight requests from sending to the validated answer or the failure, by result',
      labelNames: ['result'],
      buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
      registers: [registry],
    }),
    llmDeferred: new Counter({
      name: 'livecalls_llm_deferred_total',
      help: 'LLM insight requests held back, by reason (workspace_rate: the workspace used its requests per minute; backoff: after a failure; concurrency: all slots busy)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    historyPurged: new Counter({
      name: 'livecalls_history_purged_total',
      help: 'Ended calls deleted because they were older than LIVECALLS_RETENTION',
      registers: [registry],
    }),
  };
}
