/**
 * Outgoing webhooks: endpoint registration per workspace, what puts news into the durable outbox, and the
 * delivery worker. Nothing here waits on a receiver: news is only enqueued; the worker sends.
 *
 * A committed change never loses its webhook, whatever crash follows: its news is written in the commit
 * itself, in one of two ways, whichever the call store offers.
 *  - In the outbox (`outbox`, when the call store says `outboxInCommit`: the embedded store with the embedded
 *    outbox): the store asks for the batch's messages while applying it and writes them in the same SQLite
 *    transaction.
 *  - In the store's relay (`relayed`, when it has `CallStore.relay`: Redis, whose commit is one Lua script, or
 *    embedded calls with the outbox in PostgreSQL): the commit keeps the batch's news beside the calls, and
 *    `move` (asked by the worker before every claim; it reads the relay 20 ms after news committed here, and
 *    once a second for other instances') takes it into the outbox, then forgets it. The outbox skips a
 *    message id it has, so a move repeated after a crash, or made by two instances at once, enqueues each
 *    message once. An outbox that is away leaves the news where it is, in order, for the next poll: nothing is
 *    held in memory, and nothing dies with the process.
 * The change listener (`onChange`) only wakes the worker (at once for the outbox, 20 ms later for a relay).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeListener, Clock, OutboxBuilder, RelayBuilder } from '../calls/service.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { CallDelta } from '../domain/changes.ts';
import type { Metrics } from '../metrics.ts';
import type {
  CallStore,
  RelayEntry,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
  WebhookMessage,
  WebhookStore,
} from '../store/types.ts';
import { isOutage } from '../store/unavailable.ts';
import { buildMessage, newsOf, WEBHOOK_EVENT_TYPES } from './events.ts';
import { newSigningSecret } from './signing.ts';
import { DeliveryWorker } from './worker.ts';

/** Enough for any sane integration, small enough that one call's news never fans out unboundedly. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;

/** How long news committed here waits for more before the relay is read: one read for a burst of commits. */
export const RELAY_COALESCE_MS = 20;
/** Other instances' news (or what an outage left behind) is looked for this often. */
export const RELAY_POLL_MS = 1_000;
/** Relay entries moved per round. */
export const RELAY_BATCH = 200;
/** Rounds per move: the worker then claims (retries already due wait no longer than that), and the next poll moves on. */
export const RELAY_ROUNDS = 5;
/**
 * How long an entry may keep failing, the stores not being away, before it is dropped: long enough for a
 * database failover (a read-only primary), a full disk being freed, a lock; short enough that one bad entry
 * does not hold up a workspace's webhooks for hours.
 */
export const RELAY_GIVE_UP_MS = 10 * 60_000;

/** A relay entry that can never be moved: not news, or not the workspace's it is filed under. */
class UnreadableEntry extends Error {
  override name = 'UnreadableEntry';
}

export interface NewEndpoint {
  url: string;
  events: readonly WebhookEventType[];
  description?: string | undefined;
}

export interface WebhookServiceDeps {
  store: WebhookStore;
  /** Where committed news comes from: a store with `outboxInCommit` or with a `relay`. */
  calls: CallStore;
  config: Config['webhooks'];
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

/**
 * One news item as a relay keeps it: the message itself, or for `call.ended` the change it is built from,
 * since its message carries the call's whole transcript, which the store reads when it is moved.
 */
type Relayed = { now: number; type: WebhookEventType; message: WebhookMessage } | { now: number; type: 'call.ended'; delta: CallDelta };

function parseRelayed(body: string): Relayed | undefined {
  try {
    const r = JSON.parse(body) as Partial<Relayed> & { message?: WebhookMessage; delta?: CallDelta };
    if (typeof r.now !== 'number' || !WEBHOOK_EVENT_TYPES.includes(r.type as WebhookEventType)) return undefined;
    if (r.message && typeof r.message.id === 'string' && typeof r.message.payload === 'string') return r as Relayed;
    if (r.type === 'call.ended' && typeof r.delta?.call?.id === 'string') return r as Relayed;
    return undefined;
  } catch {
    return undefined;
  }
}

export function newEndpointId(): string {
  return `ep_${randomBytes(8).toString('hex')}`;
}

export class WebhookService {
  readonly worker: DeliveryWorker;
  private moving: Promise<void> | undefined;
  /** Relay entries failing (not for an outage), by workspace and id: since when. */
  private readonly failing = new Map<string, number>();
  /** This instance committed news the relay has not been read for since. */
  private relayDirty = true;
  private lastMove = Number.NEGATIVE_INFINITY;
  private moveSoon: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WebhookServiceDeps) {
    const { store, clock, metrics, log, config, calls } = deps;
    if (!calls.outboxInCommit && !calls.relay) throw new Error('the call store must keep webhook news in its commits');
    this.worker = new DeliveryWorker({ store, clock, metrics, log, ...config, beforeClaim: () => this.move() });
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
   * for the types some endpoint of the workspace is subscribed to. Runs inside the store's transaction.
   */
  readonly outbox: OutboxBuilder = (deltas, now, outbox) =>
    deltas.flatMap((delta) =>
      newsOf(delta)
        .filter((n) => outbox.wants(n.type))
        .map((n) => buildMessage(n.type, n.delta, now, n.type === 'call.ended' ? outbox.transcript(n.delta.call.id) : [])),
    );

  /**
   * Registered with `CallService.useRelay` when the store has a relay: every news item of a batch, whoever is
   * subscribed (subscriptions live in the outbox's database, which the commit cannot read; a few items per
   * call, so keeping them all costs little). Runs inside the store's commit.
   */
  readonly relayed: RelayBuilder = (deltas, now) =>
    deltas.flatMap((delta) =>
      newsOf(delta).map((n) =>
        JSON.stringify(
          n.type === 'call.ended'
            ? { now, type: n.type, delta: n.delta }
            : { now, type: n.type, message: buildMessage(n.type, n.delta, now) },
        ),
      ),
    );

  /** Registered with `CallService.onChange`: the news is in the commit already, so only the worker is woken. */
  readonly onChange: ChangeListener = (_workspaceId, deltas) => {
    if (!deltas.some((delta) => newsOf(delta).length > 0)) return;
    if (this.deps.calls.outboxInCommit || !this.deps.calls.relay) {
      this.worker.kick();
      return;
    }
    // News in the relay: moved a moment later, together with whatever else commits meanwhile. Under load a
    // move per change would read the relay hundreds of times a second for a few entries each.
    this.relayDirty = true;
    this.moveSoon ??= setTimeout(() => {
      this.moveSoon = undefined;
      this.worker.kick();
    }, RELAY_COALESCE_MS);
  };

  /**
   * Moves the relay's news into the outbox, oldest first, for at most `RELAY_ROUNDS` rounds (then the worker
   * claims, and the next poll goes on), until the relay is empty or an entry cannot be moved yet: then it and
   * what follows stay for the next poll, in order. An entry fails for good only when it cannot be read, or when
   * it has failed for `RELAY_GIVE_UP_MS` without the stores being away (a bug or bad data no retry mends): it
   * is then logged, counted and dropped, so it does not hold up the rest forever. Never throws; one at a time.
   */
  move(): Promise<void> {
    if (!this.deps.calls.relay) return Promise.resolve();
    this.moving ??= this.moveRelayed().finally(() => {
      this.moving = undefined;
    });
    return this.moving;
  }

  private async moveRelayed(): Promise<void> {
    const relay = this.deps.calls.relay;
    if (!relay) return;
    // The worker asks before every claim (each poll, each kick, each finished delivery): the relay is read
    // when this instance committed news since, or once a poll interval for other instances' news.
    // Elapsed time, not the service clock (which says when deliveries are due).
    const now = performance.now();
    if (!this.relayDirty && now - this.lastMove < RELAY_POLL_MS) return;
    this.relayDirty = false;
    this.lastMove = now;
    for (let round = 0; round < RELAY_ROUNDS; round++) {
      let entries: RelayEntry[];
      try {
        entries = await relay.take(RELAY_BATCH);
      } catch (err) {
        this.deps.log.warn({ err }, 'webhook news kept by the call store could not be read; retrying at the next poll');
        return;
      }
      if (entries.length === 0) return;
      const moved: RelayEntry[] = [];
      let created = 0;
      let away: unknown;
      // Workspaces whose next entry cannot be moved yet: the rest of theirs waits (each workspace's news keeps
      // its order), the other workspaces' goes on, so one workspace's bad entry never holds up another's.
      const held = new Map<string, unknown>();
      const subscribed = new Map<string, Set<WebhookEventType>>();
      for (const entry of entries) {
        if (held.has(entry.workspaceId)) continue;
        const key = `${entry.workspaceId}\u0000${entry.id}`;
        try {
          created += await this.moveOne(entry, subscribed);
          this.failing.delete(key);
        } catch (err) {
          const retryable = !(err instanceof UnreadableEntry);
          if (retryable && isOutage(err)) {
            away = err;
            break;
          }
          if (retryable && !this.givenUp(key)) {
            held.set(entry.workspaceId, err);
            continue;
          }
          this.failing.delete(key);
          this.deps.metrics.webhookRelayDropped.inc();
          this.deps.log.error({ err, workspaceId: entry.workspaceId, entryId: entry.id }, 'webhook news that cannot be moved was dropped');
        }
        moved.push(entry);
      }
      if (moved.length > 0) {
        try {
          await relay.done(moved);
        } catch (err) {
          // Moved again at the next poll: the outbox skips what it has.
          this.deps.log.warn({ err }, 'moved webhook news could not be forgotten yet');
          away ??= err;
        }
      }
      if (created > 0) this.worker.kick();
      for (const [workspaceId, err] of held) {
        this.deps.log.warn(
          { err, workspaceId },
          "a workspace's webhook news could not be moved into the outbox yet; retrying at the next poll",
        );
      }
      if (away !== undefined) {
        this.deps.log.warn({ err: away, moved: moved.length }, 'webhook outbox unavailable; committed news stays for the next poll');
        return;
      }
      // Everything taken was held up, or the relay is empty now: the next poll looks again.
      if (moved.length === 0 || entries.length < RELAY_BATCH) return;
    }
    // Rounds used up with more waiting: the worker claims, and its next look moves on at once.
    this.relayDirty = true;
  }

  /** Whether an entry that failed again (not an outage) has been failing long enough to give it up. */
  private givenUp(key: string): boolean {
    const now = this.deps.clock();
    const since = this.failing.get(key);
    if (since === undefined) {
      this.failing.set(key, now);
      // Bounded: entries are only ever at the head of the relay, so a handful at a time.
      if (this.failing.size > 1_000) this.failing.delete(this.failing.keys().next().value as string);
      return false;
    }
    return now - since >= RELAY_GIVE_UP_MS;
  }

  /** One relay entry into the outbox: how many deliveries it created (0 when no endpoint wants it). */
  private async moveOne(entry: RelayEntry, subscribed: Map<string, Set<WebhookEventType>>): Promise<number> {
    const news = parseRelayed(entry.body);
    // The entry's own workspace must be the stream's or table row's it came from: nothing else is trusted.
    const workspaceOf = news && ('message' in news ? news.message.workspaceId : news.delta.call.workspaceId);
    if (!news || workspaceOf !== entry.workspaceId) throw new UnreadableEntry(`unreadable webhook relay entry ${entry.id}`);
    let types = subscribed.get(entry.workspaceId);
    if (!types) {
      types = new Set((await this.deps.store.listEndpoints(entry.workspaceId)).flatMap((e) => e.events));
      subscribed.set(entry.workspaceId, types);
    }
    if (!types.has(news.type)) return 0;
    const message =
      'message' in news
        ? news.message
        : buildMessage(news.type, news.delta, news.now, await this.deps.calls.transcript(entry.workspaceId, news.delta.call.id));
    return this.deps.store.enqueue(message, news.now);
  }

  start(): void {
    this.worker.start();
  }

  /** Stops the worker; news not moved yet stays in the relay for the next start. */
  async stop(): Promise<void> {
    clearTimeout(this.moveSoon);
    this.moveSoon = undefined;
    await this.worker.stop();
    await this.moving;
  }
}
