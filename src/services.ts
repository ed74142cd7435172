/**
 * Composition root: builds every dependency from the config, explicitly. Routes and ingest adapters get
 * what they need from here and never construct clients themselves.
 */
import pino, { type Logger } from 'pino';
import { createAlertEvaluator, type AlertEvaluator } from './alerts/evaluator.ts';
import { createAnalyzer, type ConversationAnalyzer } from './analysis/index.ts';
import { LlmInsights } from './analysis/llm/service.ts';
import type { Timers } from './analysis/llm/throttle.ts';
import { CallActions } from './calls/actions.ts';
import { createReconciler, type Reconciler } from './calls/reconcile.ts';
import { CallService, type Clock } from './calls/service.ts';
import { WorkspaceSettings } from './calls/settings.ts';
import { HistoryService } from './calls/history.ts';
import { createRetention, type Retention } from './calls/retention.ts';
import { StatsService } from './calls/stats.ts';
import { registerActiveCallsGauge } from './calls/active-gauge.ts';
import { createSweeper, type Sweeper } from './calls/sweeper.ts';
import type { Config } from './config.ts';
import { ConfigError } from './config.ts';
import type { CallControl } from './control/livekit.ts';
import { LiveKitProjects } from './control/projects.ts';
import { RoomOwnership } from './calls/ownership.ts';
import { loadServerSecret, SIMULATION_KEY, type ServerSecret } from './control/secrets.ts';
import type { LiveKitSignature } from './ingest/signature.ts';
import { LiveHub } from './live/hub.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { cachedTenants } from './store/cached-tenants.ts';
import { createEmbeddedStores } from './store/embedded/index.ts';
import type { Stores } from './store/types.ts';
import { WebhookService } from './webhooks/service.ts';

export interface Services {
  config: Readonly<Config>;
  log: Logger;
  clock: Clock;
  stores: Stores;
  analyzer: ConversationAnalyzer;
  /** LIVECALLS_SECRET (or the data directory's): seals stored LiveKit secrets, signs stream tokens. */
  secret: ServerSecret;
  calls: CallService;
  sweeper: Sweeper;
  metrics: Metrics;
  /** Open live streams of this instance. */
  hub: LiveHub;
  /** The configuration's project's signature; undefined when LIVEKIT_API_KEY/SECRET are not set. */
  signature: LiveKitSignature | undefined;
  /** The configuration's project's call control; undefined when LIVEKIT_URL is not set. */
  control: CallControl | undefined;
  /** Every LiveKit project: the configuration's and the workspaces' own (see control/projects.ts). */
  projects: LiveKitProjects;
  /** Room ownership as LiveKit proves it (see calls/ownership.ts). */
  ownership: RoomOwnership;
  /** Takeover, listen-in, transfer (they answer 503 without `control`). */
  actions: CallActions;
  /** Reconciles every project with call control (none: a pass does nothing). */
  reconciler: Reconciler;
  /** The call history: pages, details, exports of ended calls. */
  history: HistoryService;
  /** Fleet statistics over the history and the active calls. */
  stats: StatsService;
  /** Purges ended calls older than LIVECALLS_RETENTION (started by the server). */
  retention: Retention;
  /** Outgoing webhooks: endpoints, the outbox and its delivery worker (started by the server). */
  webhooks: WebhookService;
  /** LLM insights in the background (see analysis/llm/service.ts); undefined unless LIVECALLS_LLM_URL is set. */
  llm: LlmInsights | undefined;
  /** Workspaces' alert rules and prices, cached (see calls/settings.ts). */
  settings: WorkspaceSettings;
  /** Time-based alert rules (dead air, long calls), evaluated periodically (started by the server). */
  alerts: AlertEvaluator;
  close(): Promise<void>;
}

/** How long an instance uses a workspace's alert rules and prices before reading them again (another instance's save). */
const SETTINGS_TTL_MS = 5_000;

export interface ServiceOverrides {
  clock?: Clock;
  log?: Logger;
  stores?: Stores;
  /** The LLM insights' timers (debounce, timeout, rate, backoff); real ones by default. */
  llmTimers?: Timers;
}

export function createServices(config: Readonly<Config>, overrides: ServiceOverrides = {}): Services {
  const log = overrides.log ?? pino({ level: config.logLevel });
  if (!config.secret && (config.redisUrl || config.databaseUrl)) {
    throw new ConfigError(
      'invalid configuration:\n  LIVECALLS_SECRET: required with REDIS_URL or DATABASE_URL, the same on every instance (e.g. `openssl rand -base64 32`): it seals stored LiveKit secrets and signs stream tokens',
    );
  }
  const secret = loadServerSecret(config.secret, config.dataDir);
  const clock = overrides.clock ?? Date.now;
  const opened = overrides.stores ?? createEmbeddedStores(config.dataDir, config.sync, config.streamReplay, log);
  // Every API request verifies its key: verified keys are trusted for a few seconds (see the module).
  const stores: Stores = { ...opened, tenants: cachedTenants(opened.tenants, { ttlMs: config.keyCacheTtlMs }) };
  const metrics = createMetrics();
  const analyzer = createAnalyzer();
  const calls = new CallService(stores.calls, stores.tenants, analyzer, clock, metrics, log);
  registerActiveCallsGauge(metrics.registry, stores);
  const settings = new WorkspaceSettings(stores.tenants, { ttlMs: SETTINGS_TTL_MS, now: clock, log });
  calls.settings = settings;
  const alerts = createAlertEvaluator({ stores, service: calls, settings, clock, everyMs: config.alertsEveryMs, log });
  const hub = new LiveHub({
    feed: stores.feed,
    snapshot: (workspaceId) => calls.listBody(workspaceId),
    keyStillValid: async (keyId) => {
      const key = await stores.tenants.getKey(keyId);
      return key !== undefined && key.revokedAt === null;
    },
    revalidateMs: 60_000,
    bufferBytes: config.streamBufferBytes,
    heartbeatMs: config.streamHeartbeatMs,
    log,
    metrics,
  });
  hub.start();
  const webhooks = new WebhookService({ store: stores.webhooks, calls: stores.calls, config: config.webhooks, clock, metrics, log });
  // Each commit keeps its webhook news: in the outbox itself where the store shares its database, else in the
  // store's relay, which the worker moves into the outbox.
  if (stores.calls.outboxInCommit) calls.useOutbox(webhooks.outbox);
  else calls.useRelay(webhooks.relayed);
  calls.onChange('webhooks', webhooks.onChange);
  const llm = config.llm ? new LlmInsights({ config: config.llm, metrics, log, timers: overrides.llmTimers }) : undefined;
  if (llm) calls.onChange('llm', llm.onChange);
  const sweeper = createSweeper({
    calls: stores.calls,
    leases: stores,
    service: calls,
    staleAfterMs: config.staleAfterMs,
    clock,
    metrics,
    log,
  });
  const { url, apiKey, apiSecret } = config.livekit;
  const liveKitConfigured = Boolean(apiKey && apiSecret);
  const projects = new LiveKitProjects({
    tenants: stores.tenants,
    secret,
    // Without LiveKit, only the simulator's key pair (see SIMULATION_KEY): the quick start can be simulated.
    fallback:
      apiKey && apiSecret ? { url, apiKey, apiSecret } : { url: undefined, apiKey: SIMULATION_KEY, apiSecret: secret.simulationSecret },
    fallbackIsSimulation: !liveKitConfigured,
  });
  calls.projectMayTouch = (workspaceId, project) => projects.mayTouch(workspaceId, project);
  const ownership = new RoomOwnership({
    rooms: stores.rooms,
    calls: stores.calls,
    clock,
    log,
    projectOf: async (workspaceId) => (await projects.forWorkspace(workspaceId))?.apiKey ?? '',
    end: async (workspaceId, callId, roomName) => {
      const call = await stores.calls.getActive(workspaceId, roomName);
      if (call?.id === callId) await calls.endHere(workspaceId, call, 'not_owner');
    },
  });
  calls.ownership = ownership;
  calls.maxActiveCalls = config.maxActiveCalls;
  const signature = liveKitConfigured ? projects.fallback?.signature : undefined;
  const control = projects.fallback?.control;
  const actions = new CallActions({ service: calls, calls: stores.calls, projects, clock, log, listenTokenTtlMs: config.listenTokenTtlMs });
  const history = new HistoryService(stores.history, analyzer);
  const stats = new StatsService(stores.history, stores.calls, clock);
  const retention = createRetention({ history: stores.history, retentionMs: config.retentionMs, clock, metrics, log });
  const reconciler = createReconciler({ stores, service: calls, projects, clock, everyMs: config.reconcileEveryMs, log });
  return {
    config,
    log,
    clock,
    stores,
    analyzer,
    secret,
    calls,
    sweeper,
    metrics,
    hub,
    signature,
    control,
    projects,
    ownership,
    actions,
    reconciler,
    webhooks,
    llm,
    settings,
    alerts,
    history,
    stats,
    retention,
    async close() {
      hub.closeAll();
      // Requests to the model in flight are abandoned: their calls keep the offline insights.
      await llm?.stop();
      // A sweep, reconciliation, alert pass or purge in progress finishes before the stores close under it.
      await Promise.all([sweeper.stop(), reconciler.stop(), alerts.stop(), retention.stop()]);
      await webhooks.stop();
      await stores.close();
    },
  };
}
