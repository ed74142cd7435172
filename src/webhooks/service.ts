/**
 * Outgoing webhooks: endpoint registration per workspace, what puts news into the durable outbox, and the
 * delivery worker. Nothing here waits on a receiver: news is only enqueued; the worker sends.
 *
 * Two ways news reaches the outbox:
 *  - In the commit (`outbox`, when the call store says `outboxInCommit`: the embedded store with the embedded
 *    outbox): the store asks for the batch's messages while applying it and writes them in the same SQLite
 *    transaction, so a committed change always has its outbox rows, whatever crash follows. The change
 *    listener then only wakes the worker.
 *  - After the commit (`onChange`), for stores that cannot do that yet (Redis + PostgreSQL, or embedded calls
 *    with a PostgreSQL outbox): a crash between the commit and the enqueue loses that news.
 *
 * Why news the outbox could not take after a commit is held in memory: the listener runs after the call
 * change committed and was acknowledged, and the sender's retry of it would be deduplicated away, so a failed outbox write
 * (PostgreSQL restarting, a network blip) would otherwise lose the event for good. Held news is retried by
 * the worker before each claim (with the time it happened, so it is due at once and keeps its order), and
 * news arriving meanwhile queues behind it. The backlog is bounded (oldest dropped, counted) and dies with
 * the process: only a crash during an outage still loses events.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeListener, Clock, OutboxBuilder } from '../calls/service.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { CallDelta } from '../domain/changes.ts';
import type { Metrics } from '../metrics.ts';
import type { CallStore, WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookMessage, WebhookStore } from '../store/types.ts';
import { Backlog } from './backlog.ts';
import { buildMessage, newsOf } from './events.ts';
import { newSigningSecret } from './signing.ts';
import { DeliveryWorker } from './worker.ts';

/** Enough for any sane integration, small enough that one call's news never fans out unboundedly. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;

/** News held while the outbox is unreachable: minutes of a busy deployment's events, a bounded amount of memory. */
export const BACKLOG_LIMIT = 10_000;

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
  /** Defaults to `BACKLOG_LIMIT`. */
  backlogLimit?: number;
  /**
   * True when the call store writes `outbox`'s messages in its commits (`CallStore.outboxInCommit`): the
   * change listener then enqueues nothing.
   */
  inCommit?: boolean;
}

/** One event of a committed change, for the outbox. */
interface News {
  workspaceId: string;
  type: WebhookEventType;
  delta: CallDelta;
  now: number;
}

/**
 * Held news: the message when it could be built, the news itself when not (`call.ended` whose transcript
 * could not be read). Built messages are plain strings, so most entries cost little memory.
 */
type Held = { now: number; message: WebhookMessage } | { now: number; news: News };

export function newEndpointId(): string {
  return `ep_${randomBytes(8).toString('hex')}`;
}

export class WebhookService {
  readonly worker: DeliveryWorker;
  private readonly backlog: Backlog<Held>;
  private draining: Promise<void> | undefined;
  /** Dropping from a full backlog is logged once per outage (the metric counts every entry). */
  private dropping = false;

  constructor(private readonly deps: WebhookServiceDeps) {
    const { store, clock, metrics, log, config } = deps;
    this.backlog = new Backlog(deps.backlogLimit ?? BACKLOG_LIMIT);
    this.worker = new DeliveryWorker({ store, clock, metrics, log, ...config, beforeClaim: () => this.drain() });
  }

  /** Events held in memory because the outbox could not take them yet. */
  get held(): number {
    return this.backlog.size;
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

  /**
   * Registered with `CallService.useOutbox` when the store writes the outbox in its commits: a batch's messages,
   * for the types some endpoint of the workspace is subscribed to. Runs inside the store's transaction. The ids
   * are the same `onChange` would give (see events.ts), so nothing is enqueued twice.
   */
  readonly outbox: OutboxBuilder = (deltas, now, outbox) =>
    deltas.flatMap((delta) =>
      newsOf(delta)
        .filter((n) => outbox.wants(n.type))
        .map((n) => buildMessage(n.type, n.delta, now, n.type === 'call.ended' ? outbox.transcript(n.delta.call.id) : [])),
    );

  /**
   * Registered with `CallService.onChange`: turns committed news into outbox rows, unless the store already
   * wrote them in the commit (`inCommit`); then it only wakes the worker. Never throws.
   */
  readonly onChange: ChangeListener = async (workspaceId, deltas, now) => {
    const news: News[] = deltas.flatMap((delta) => newsOf(delta).map((n) => ({ workspaceId, type: n.type, delta: n.delta, now })));
    if (news.length === 0) return;
    if (this.deps.inCommit) {
      this.worker.kick();
      return;
    }
    if (this.backlog.size > 0) {
      // The outbox failed a moment ago: queue behind what it has not taken yet rather than make this ingest
      // wait on a database that is most likely still away.
      this.hold(news.map((n) => this.heldOf(n)));
      if (this.worker.running) this.worker.kick();
      else await this.drain();
      return;
    }
    let subscribed: Set<WebhookEventType>;
    try {
      subscribed = new Set((await this.deps.store.listEndpoints(workspaceId)).flatMap((e) => e.events));
    } catch (err) {
      this.hold(
        news.map((n) => this.heldOf(n)),
        err,
      );
      return;
    }
    const wanted = news.filter((n) => subscribed.has(n.type));
    let created = 0;
    for (const [i, n] of wanted.entries()) {
      let message: WebhookMessage | undefined;
      try {
        message = await this.build(n);
        created += await this.deps.store.enqueue(message, n.now);
      } catch (err) {
        const first: Held = message ? { now: n.now, message } : this.heldOf(n);
        this.hold([first, ...wanted.slice(i + 1).map((rest) => this.heldOf(rest))], err);
        break;
      }
    }
    if (created > 0) this.worker.kick();
  };

  /**
   * Moves held news into the outbox, oldest first, until it is all in or a second write fails (the store is
   * most likely still away: the rest waits for the next poll, in order). The first failure is stepped over,
   * so an entry that cannot be written at all does not hold up the others. Never throws; one drain at a time.
   */
  drain(): Promise<void> {
    if (this.backlog.size === 0) return Promise.resolve();
    this.draining ??= this.drainHeld().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainHeld(): Promise<void> {
    let moved = 0;
    let skipped = 0;
    for (let entry = this.backlog.at(skipped); entry; entry = this.backlog.at(skipped)) {
      try {
        const message = 'message' in entry ? entry.message : await this.build(entry.news);
        await this.deps.store.enqueue(message, entry.now);
      } catch (err) {
        if (skipped === 0 && this.backlog.size > 1) {
          skipped = 1;
          continue;
        }
        this.deps.log.warn(
          { err, held: this.backlog.size, moved },
          'webhook outbox still unavailable; held events retried at the next poll',
        );
        return;
      }
      this.backlog.remove(entry);
      moved += 1;
    }
    if (skipped > 0) {
      this.deps.log.warn({ held: this.backlog.size, moved }, 'a held webhook event could not be written; retried at the next poll');
      return;
    }
    this.dropping = false;
    this.deps.log.info({ moved }, 'held webhook events are in the outbox');
  }

  private async build(n: News): Promise<WebhookMessage> {
    const transcript = n.type === 'call.ended' ? await this.deps.calls.transcript(n.workspaceId, n.delta.call.id) : [];
    return buildMessage(n.type, n.delta, n.now, transcript);
  }

  /** Builds what needs no I/O now; keeps a copy of the rest (the call object may change after this). */
  private heldOf(n: News): Held {
    if (n.type !== 'call.ended') return { now: n.now, message: buildMessage(n.type, n.delta, n.now) };
    return { now: n.now, news: { ...n, delta: structuredClone(n.delta) } };
  }

  private hold(entries: Held[], err?: unknown): void {
    if (err !== undefined) {
      this.deps.log.warn({ err, held: this.backlog.size + entries.length }, 'webhook outbox unavailable; events held in memory to retry');
    }
    const dropped = this.backlog.push(entries);
    if (dropped === 0) return;
    this.deps.metrics.webhookBacklogDropped.inc(dropped);
    if (!this.dropping) {
      this.dropping = true;
      this.deps.log.warn({ limit: this.backlog.limit }, 'webhook backlog full: the oldest held events are dropped');
    }
  }

  start(): void {
    this.worker.start();
  }

  /** Stops the worker, then gives held events one last chance to reach the outbox. */
  async stop(): Promise<void> {
    await this.worker.stop();
    await this.drain();
    if (this.backlog.size > 0)
      this.deps.log.error({ lost: this.backlog.size }, 'webhook events the outbox never took are lost with this process');
  }
}
