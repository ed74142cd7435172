/**
 * Outgoing webhooks: endpoint registration per workspace, the change listener that puts news into the
 * durable outbox, and the delivery worker. The listener only enqueues (one store write per event), so an
 * ingest never waits on a receiver; the worker sends.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeListener, Clock } from '../calls/service.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { CallStore, WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookStore } from '../store/types.ts';
import { buildMessage, eventTypesOf } from './events.ts';
import { newSigningSecret } from './signing.ts';
import { DeliveryWorker } from './worker.ts';

/** Enough for any sane integration, small enough that one call's news never fans out unboundedly. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;

export interface NewEndpoint {
  url: string;
  events: readonly WebhookEventType[];
  description?: string | undefined;
}

export interface WebhookServiceDeps {
  store: WebhookStore;
  calls: CallStore;
  config: Config['webhooks'];
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

export function newEndpointId(): string {
  return `ep_${randomBytes(8).toString('hex')}`;
}

export class WebhookService {
  readonly worker: DeliveryWorker;

  constructor(private readonly deps: WebhookServiceDeps) {
    const { store, clock, metrics, log, config } = deps;
    this.worker = new DeliveryWorker({ store, clock, metrics, log, ...config });
  }

  /** The endpoint and its signing secret: the only time the secret is shown. */
  async register(workspaceId: string, input: NewEndpoint): Promise<WebhookEndpoint> {
    const existing = await this.deps.store.listEndpoints(workspaceId);
    if (existing.length >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw new AppError('conflict', `a workspace can register at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints`);
    }
    const endpoint: WebhookEndpoint = {
      id: newEndpointId(),
      workspaceId,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      secret: newSigningSecret(),
      createdAt: this.deps.clock(),
    };
    await this.deps.store.createEndpoint(endpoint);
    this.deps.log.info({ workspaceId, endpointId: endpoint.id, events: endpoint.events }, 'webhook endpoint registered');
    return endpoint;
  }

  list(workspaceId: string): Promise<WebhookEndpoint[]> {
    return this.deps.store.listEndpoints(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.deps.store.getEndpoint(workspaceId, id);
    if (!endpoint) throw new AppError('not_found', 'no such webhook endpoint');
    return endpoint;
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    if (!(await this.deps.store.deleteEndpoint(workspaceId, id))) throw new AppError('not_found', 'no such webhook endpoint');
    this.deps.log.info({ workspaceId, endpointId: id }, 'webhook endpoint removed');
  }

  async deliveries(workspaceId: string, id: string, limit: number): Promise<WebhookDelivery[]> {
    await this.get(workspaceId, id);
    return this.deps.store.listDeliveries(workspaceId, id, limit);
  }

  /** Registered with `CallService.onChange`: turns committed news into outbox rows. */
  readonly onChange: ChangeListener = async (workspaceId, deltas, now) => {
    const news = deltas.flatMap((delta) => eventTypesOf(delta).map((type) => ({ delta, type })));
    if (news.length === 0) return;
    const subscribed = new Set((await this.deps.store.listEndpoints(workspaceId)).flatMap((e) => e.events));
    let created = 0;
    for (const { delta, type } of news) {
      if (!subscribed.has(type)) continue;
      const transcript = type === 'call.ended' ? await this.deps.calls.transcript(workspaceId, delta.call.id) : [];
      created += await this.deps.store.enqueue(buildMessage(type, delta, now, transcript), now);
    }
    if (created > 0) this.worker.kick();
  };

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}
