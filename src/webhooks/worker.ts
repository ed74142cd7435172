/**
 * The delivery worker: takes due deliveries from the outbox, sends each signed, and records the attempt.
 *
 * Why it works like this:
 *  - The outbox is polled (every `pollMs`) and kicked on enqueue in this process, so a delivery goes out at
 *    once, and one enqueued by another instance or left by a restart goes out within a poll.
 *  - A delivery is claimed for `timeoutMs` plus a margin: longer than any send, so while the holder lives
 *    no other instance sends the same attempt; after a crash the lease runs out and another one retakes it.
 *  - Only public addresses are connected to unless `allowPrivate` (see address.ts); a refused address is a
 *    failed attempt like a refused connection, with the reason in the delivery log.
 *  - 2xx is delivered. Anything else (other statuses, redirects, timeouts, refused connections) is retried
 *    after `retryDelayMs`: exponential, capped, with jitter so endpoints that come back are not hit by
 *    every queued retry at once; after `maxAttempts` the delivery is failed.
 *  - At most `concurrency` sends at once per instance, and at most `workspaceConcurrency` deliveries of one
 *    workspace held at once, so one workspace's slow or hanging endpoints leave the other workspaces' slots free.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../calls/service.ts';
import type { Metrics } from '../metrics.ts';
import type { ClaimedDelivery, DeliveryStatus, WebhookStore } from '../store/types.ts';
import { NotPublicAddressError } from './address.ts';
import { postWebhook } from './send.ts';
import { signedHeaders } from './signing.ts';

const RETRY_BASE_MS = 5_000;
const RETRY_FACTOR = 4;
const RETRY_CAP_MS = 6 * 3_600_000;
const LEASE_MARGIN_MS = 60_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The wait after failed attempt `attempt` (1-based): 5 s, 20 s, 80 s, 5⅓ min, 21⅓ min, 85⅓ min, 5.7 h,
 * then 6 h, each within ±20 % (`random` in [0, 1)).
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_BASE_MS * RETRY_FACTOR ** (attempt - 1), RETRY_CAP_MS);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface WorkerOptions {
  store: WebhookStore;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  maxAttempts: number;
  timeoutMs: number;
  concurrency: number;
  /**
   * Deliveries of one workspace held at once (all instances): a workspace whose endpoints hang until the timeout
   * cannot take every slot and hold up the others' webhooks. Unset: no cap.
   */
  workspaceConcurrency?: number;
  retentionMs: number;
  /** Send to loopback, private, link-local, … addresses too. */
  allowPrivate: boolean;
  /** Runs before every claim and never throws: the service moves news the outbox could not take earlier into it. */
  beforeClaim?: () => Promise<void>;
  pollMs?: number;
  /** Names this worker in claims; unique per process unless told otherwise. */
  holder?: string;
  random?: () => number;
  /** The time signed into `webhook-timestamp`: receivers check it against their own clock, so it is wall time. */
  signingTime?: () => Date;
}

export class DeliveryWorker {
  readonly holder: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private again = false;
  private lastPrune = 0;

  constructor(private readonly o: WorkerOptions) {
    this.holder = o.holder ?? `worker-${randomBytes(6).toString('hex')}`;
    this.leaseMs = o.timeoutMs + LEASE_MARGIN_MS;
    this.pollMs = o.pollMs ?? 1_000;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due deliveries now (coalesced: a kick during a look makes it look once more). */
  kick(): void {
    if (!this.timer) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = this.fill().finally(() => {
      this.filling = undefined;
    });
  }

  /** Stops taking deliveries and waits for the ones being sent to be recorded. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.filling;
    await Promise.allSettled([...this.inFlight]);
  }

  private async fill(): Promise<void> {
    do {
      this.again = false;
      // Before the free-slot check: held news must reach the outbox even while every slot is busy.
      await this.o.beforeClaim?.();
      const free = this.o.concurrency - this.inFlight.size;
      if (free <= 0) return;
      const now = this.o.clock();
      let claimed: ClaimedDelivery[];
      try {
        await this.maybePrune(now);
        claimed = await this.o.store.claim(this.holder, now, this.leaseMs, free, this.o.workspaceConcurrency);
      } catch (err) {
        this.o.log.warn({ err }, 'webhook outbox unavailable; retrying at the next poll');
        return;
      }
      for (const delivery of claimed) {
        const sending: Promise<void> = this.deliver(delivery).finally(() => {
          this.inFlight.delete(sending);
          // A freed slot may take what was left behind when every slot was busy.
          this.kick();
        });
        this.inFlight.add(sending);
      }
    } while (this.again && this.timer);
  }

  private async maybePrune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const pruned = await this.o.store.prune(now - this.o.retentionMs);
    if (pruned > 0) this.o.log.info({ pruned }, 'pruned finished webhook deliveries');
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    const started = performance.now();
    let responseStatus: number | null = null;
    let error: string | null = null;
    try {
      const headers = signedHeaders(d.secret, d.eventId, d.payload, this.o.signingTime?.() ?? new Date());
      responseStatus = await postWebhook(d.url, d.payload, {
        headers: { 'content-type': 'application/json', 'user-agent': 'livecalls-webhooks/1', ...headers },
        timeoutMs: this.o.timeoutMs,
        allowPrivate: this.o.allowPrivate,
      });
    } catch (err) {
      error = describeFailure(err, this.o.timeoutMs);
    }
    const delivered = responseStatus !== null && responseStatus >= 200 && responseStatus < 300;
    const status: DeliveryStatus = delivered ? 'delivered' : attempt >= this.o.maxAttempts ? 'failed' : 'pending';
    const at = this.o.clock();
    const nextAttemptAt = status === 'pending' ? at + retryDelayMs(attempt, this.o.random) : null;
    if (!delivered && error === null) error = `endpoint answered HTTP ${responseStatus}`;
    const log = { endpointId: d.endpointId, workspaceId: d.workspaceId, eventId: d.eventId, attempt, responseStatus, error };
    try {
      const outcome = { attempt, at, responseStatus, error, durationMs: Math.round(performance.now() - started), status, nextAttemptAt };
      const recorded = await this.o.store.recordAttempt(this.holder, d.endpointId, d.eventId, outcome);
      if (!recorded) {
        this.o.log.warn(log, 'webhook claim was lost before its attempt was recorded');
        return;
      }
    } catch (err) {
      // Unrecorded, the claim runs out and the attempt is made again: at least once, never lost.
      this.o.log.error({ ...log, err }, 'could not record a webhook attempt');
      return;
    }
    this.o.metrics.webhookDeliveries.inc({ result: delivered ? 'delivered' : status === 'failed' ? 'failed' : 'retry' });
    if (status === 'failed') this.o.log.warn(log, 'webhook delivery failed for good');
    else if (!delivered) this.o.log.info({ ...log, nextAttemptAt }, 'webhook attempt failed; will retry');
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof NotPublicAddressError) return err.message;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no response within ${timeoutMs} ms`;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (typeof code === 'string') return `request failed: ${code}`;
  return `request failed: ${err instanceof Error ? err.message : String(err)}`;
}
