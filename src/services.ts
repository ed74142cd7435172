/**
 * Composition root: builds every dependency from the config, explicitly. Routes and ingest adapters get
 * what they need from here and never construct clients themselves.
 */
import pino, { type Logger } from 'pino';
import { createAnalyzer, type ConversationAnalyzer } from './analysis/index.ts';
import { CallActions } from './calls/actions.ts';
import { createReconciler, type Reconciler } from './calls/reconcile.ts';
import { CallService, type Clock } from './calls/service.ts';
import { createSweeper, type Sweeper } from './calls/sweeper.ts';
import type { Config } from './config.ts';
import { createLiveKitControl, type CallControl } from './control/livekit.ts';
import { LiveKitSignature } from './ingest/signature.ts';
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
  calls: CallService;
  sweeper: Sweeper;
  metrics: Metrics;
  /** Open live streams of this instance. */
  hub: LiveHub;
  /** Undefined when LIVEKIT_API_KEY/SECRET are not set: webhooks are then refused. */
  signature: LiveKitSignature | undefined;
  /** Undefined when LIVEKIT_URL is not set: end-call answers 503. */
  control: CallControl | undefined;
  /** Takeover, listen-in, transfer (they answer 503 without `control`). */
  actions: CallActions;
  /** Undefined without `control`: there is no LiveKit to reconcile with. */
  reconciler: Reconciler | undefined;
  /** Outgoing webhooks: endpoints, the outbox and its delivery worker (started by the server). */
  webhooks: WebhookService;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  log?: Logger;
  stores?: Stores;
}

export function createServices(config: Readonly<Config>, overrides: ServiceOverrides = {}): Services {
  const log = overrides.log ?? pino({ level: config.logLevel });
  const clock = overrides.clock ?? Date.now;
  const opened = overrides.stores ?? createEmbeddedStores(config.dataDir, config.sync, config.streamReplay, log);
  // Every API request verifies its key: verified keys are trusted for a few seconds (see the module).
  const stores: Stores = { ...opened, tenants: cachedTenants(opened.tenants, { ttlMs: config.keyCacheTtlMs }) };
  const metrics = createMetrics();
  const analyzer = createAnalyzer();
  const calls = new CallService(stores.calls, stores.tenants, analyzer, clock, metrics, log);
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
  calls.onChange('webhooks', webhooks.onChange);
  const sweeper = createSweeper({ calls: stores.calls, service: calls, staleAfterMs: config.staleAfterMs, clock, metrics, log });
  const { url, apiKey, apiSecret } = config.livekit;
  const signature = apiKey && apiSecret ? new LiveKitSignature(apiKey, apiSecret) : undefined;
  const control = url && apiKey && apiSecret ? createLiveKitControl(url, apiKey, apiSecret) : undefined;
  const actions = new CallActions({ service: calls, calls: stores.calls, control, clock, log, listenTokenTtlMs: config.listenTokenTtlMs });
  const reconciler = control && createReconciler({ stores, service: calls, control, clock, everyMs: config.reconcileEveryMs, log });
  return {
    config,
    log,
    clock,
    stores,
    analyzer,
    calls,
    sweeper,
    metrics,
    hub,
    signature,
    control,
    actions,
    reconciler,
    webhooks,
    async close() {
      hub.closeAll();
      sweeper.stop();
      reconciler?.stop();
      await webhooks.stop();
      await stores.close();
    },
  };
}
