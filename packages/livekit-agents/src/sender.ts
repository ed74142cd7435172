/**
 * Delivery to livecalls, off the agent's hot path.
 *
 * - `push` only appends to a bounded ring (drops the oldest event when full, counted) and arms a timer: it
 *   never awaits, never throws, never does I/O.
 * - One request at a time, in order: a batch goes when `batchSize` events are waiting or `flushIntervalMs`
 *   after the first one arrived.
 * - A batch that fails on 429 (after its Retry-After), 408, 5xx or the network is resent with the SAME
 *   event ids (livecalls applies an id once), with exponential backoff and jitter, up to `maxAttempts`.
 * - A 400/413 is about the content: the batch is halved until the refused event is alone, so one event a
 *   livecalls does not know never costs the others. An event type refused on its own is not sent again
 *   (an older livecalls that does not know it). A body refused with `roomSid` and taken without it means
 *   this livecalls does not know `roomSid`: it is left out from then on. Likewise a transcript turn refused
 *   with `interrupted`/`metrics` and taken without them: turns go plain from then on.
 * - Other 4xx (401, 403, 404) are final: retrying cannot fix a key or an owner.
 * - Usage totals are cumulative, so a newer one replaces one still waiting instead of queueing behind it.
 */
import type { EventsBody, LivecallsEvent, LivecallsEventType } from './events.ts';
import { Ring } from './ring.ts';
import { DEFAULT_TUNING, clampInt, definedOnly, type SenderTuning } from './tuning.ts';
import { hasTurnExtras, plainTurn, retryAfter } from './wire.ts';

export interface Logger {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface SenderOptions extends Partial<SenderTuning> {
  /** livecalls' base URL, e.g. `https://livecalls.example.com`. */
  url: string;
  roomName: string;
  /** The `Authorization` header for a body (a LiveKit token bound to the room, see sign.ts). */
  authorize: (body: string) => Promise<string>;
  /** Sent as `x-workspace-id`: needed only until LiveKit's webhooks have told livecalls whose room it is. */
  workspaceId?: string;
  /** The room's sid when known (read at each request). */
  roomSid?: () => string | undefined;
  fetch?: typeof fetch;
  logger?: Logger;
}

export interface SenderStats {
  /** Waiting to be sent now. */
  queued: number;
  /** In the request being made (or waiting to be retried). */
  inFlight: number;
  /** Accepted by livecalls (202; duplicates included). */
  sent: number;
  /** Dropped before sending: the queue was full (oldest first), or pushed after close. */
  dropped: number;
  /** Events resent after a failed try (one count per event per resend). */
  retried: number;
  /** Given up on: tries exhausted, the close deadline passed, or a final 401/403/404. */
  failed: number;
  /** Refused by livecalls as invalid (400/413), or of a type it refused before. */
  rejected: number;
  /** Usage totals folded into a newer one before they were sent (they are cumulative). */
  merged: number;
  /** HTTP requests made. */
  requests: number;
}
type Attempt = { ok: true } | { ok: false; status: number | null; retryAfterMs?: number; detail: string };
export class EventSender {
  private readonly t: SenderTuning;
  private readonly queue: Ring<LivecallsEvent>;
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;
  private readonly counters = { sent: 0, dropped: 0, retried: 0, failed: 0, rejected: 0, merged: 0, requests: 0 };
  private readonly refusedTypes = new Set<LivecallsEventType>();
  private sidState: 'unknown' | 'accepted' | 'refused' = 'unknown';
  private turnExtras: 'unknown' | 'accepted' | 'refused' = 'unknown';
  private timer: NodeJS.Timeout | undefined;
  private timerSoon = false;
  private running = false;
  private inFlight = 0;
  private closed = false;
  private closing = false;
  private closingDone: Promise<void> | undefined;
  /** Set while flushing or closing; when closing, no wait or request may go past it. */
  private deadline: number | undefined;
  private wake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  /** The usage event still waiting in the queue, if any (replaced in place by a newer total). */
  private queuedUsage: LivecallsEvent | undefined;
  private readonly lastWarn = new Map<string, number>();

  constructor(private readonly o: SenderOptions) {
    this.t = { ...DEFAULT_TUNING, ...definedOnly(o) };
    this.t.batchSize = clampInt(this.t.batchSize, 1, 100);
    this.t.maxQueue = clampInt(this.t.maxQueue, 1, 1_000_000);
    this.t.maxAttempts = clampInt(this.t.maxAttempts, 1, 100);
    this.queue = new Ring(this.t.maxQueue);
    this.endpoint = `${o.url.replace(/\/+$/, '')}/v2/api/active-calls/${encodeURIComponent(o.roomName)}/events`;
    this.fetchImpl = o.fetch ?? fetch;
  }

  /** Queues an event. Synchronous, constant time, never throws. */
  push(event: LivecallsEvent): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    if (this.refusedTypes.has(event.type)) {
      this.counters.rejected++;
      return;
    }
    if (event.type === 'usage') {
      if (this.queuedUsage) {
        // Cumulative totals: the newer replaces the waiting one, which keeps its id and place.
        const { id: _id, ...rest } = event;
        Object.assign(this.queuedUsage, rest);
        this.counters.merged++;
        return;
      }
      this.queuedUsage = event;
    }
    const evicted = this.queue.push(event);
    if (evicted !== undefined) {
      this.counters.dropped++;
      if (evicted === this.queuedUsage) this.queuedUsage = undefined;
      this.warn('queue_full', { maxQueue: this.t.maxQueue }, 'livecalls: queue full, dropping the oldest events');
    }
    if (this.running) return;
    if (this.queue.length >= this.t.batchSize || this.deadline !== undefined) this.arm(0);
    else this.arm(this.t.flushIntervalMs);
  }

  stats(): SenderStats {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.counters };
  }

  /**
   * Sends what is waiting now, resolving when the queue is empty or after `timeoutMs`, whichever comes
   * first (a batch still retrying goes on in the background). Never rejects.
   */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    const previous = this.deadline;
    this.deadline = previous === undefined ? deadline : Math.min(previous, deadline);
    try {
      this.wake?.();
      this.arm(0);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    } finally {
      if (!this.closed) this.deadline = previous;
    }
  }

  /**
   * Flushes within `timeoutMs`, then stops: what is still waiting is counted as failed, later pushes as
   * dropped. Never rejects.
   */
  close(timeoutMs: number): Promise<void> {
    // A second close (the session's close event, then the job's shutdown) waits for the first.
    this.closingDone ??= this.closeNow(timeoutMs);
    return this.closingDone;
  }

  private async closeNow(timeoutMs: number): Promise<void> {
    this.closing = true;
    await this.flush(timeoutMs);
    this.closed = true;
    this.deadline = Date.now();
    this.wake?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.counters.failed += this.queue.length;
    while (this.queue.length > 0) this.queue.shift();
    this.queuedUsage = undefined;
    // A request still out ends by the deadline (its time limit was cut to it): wait for its count.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, 250)))]);
    clearTimeout(timer);
  }

  private arm(delayMs: number): void {
    if (this.running || this.queue.length === 0) return;
    if (this.timer) {
      if (delayMs > 0 || this.timerSoon) return;
      clearTimeout(this.timer);
    }
    this.timerSoon = delayMs === 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
    // An agent process does not wait for telemetry, unless it is flushing on purpose.
    if (this.deadline === undefined) this.timer.unref();
  }

  private idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch: LivecallsEvent[] = [];
        while (batch.length < this.t.batchSize && this.queue.length > 0) {
          const e = this.queue.shift()!;
          if (e === this.queuedUsage) this.queuedUsage = undefined;
          batch.push(e);
        }
        this.inFlight = batch.length;
        try {
          await this.deliver(batch);
        } finally {
          this.inFlight = 0;
        }
      }
    } catch (err) {
      this.warn('bug', { err: String(err) }, 'livecalls: delivery stopped on an unexpected error');
    } finally {
      this.running = false;
      if (this.queue.length === 0 || this.closed) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else {
        this.arm(0);
      }
    }
  }

  /** Sends one batch, halving it on a content refusal until the refused events are alone. */
  private async deliver(first: LivecallsEvent[]): Promise<void> {
    const work = [first];
    while (work.length > 0) {
      const batch = work.pop()!;
      const live = batch.filter((e) => !this.refusedTypes.has(e.type));
      this.counters.rejected += batch.length - live.length;
      if (live.length === 0) continue;
      const split = await this.sendWithRetry(live);
      if (split) {
        const mid = Math.ceil(live.length / 2);
        work.push(live.slice(mid), live.slice(0, mid));
      }
    }
  }

  /** Returns true when the batch should be split (a content refusal of more than one event). */
  private async sendWithRetry(batch: LivecallsEvent[]): Promise<boolean> {
    let withSid = this.sidState !== 'refused';
    let plain = this.turnExtras === 'refused';
    for (let attempt = 1; ; attempt++) {
      const sid = withSid ? this.o.roomSid?.() : undefined;
      const extras = !plain && batch.some(hasTurnExtras);
      const res = await this.post(plain ? batch.map(plainTurn) : batch, sid);
      if (res.ok) {
        this.counters.sent += batch.length;
        if (sid !== undefined) this.sidState = 'accepted';
        else if (!withSid && this.sidState === 'unknown') {
          this.sidState = 'refused';
          this.warn('sid', {}, 'livecalls: this server does not take roomSid; sending without it');
        }
        if (extras) this.turnExtras = 'accepted';
        else if (plain && this.turnExtras === 'unknown') {
          this.turnExtras = 'refused';
          this.warn('extras', {}, 'livecalls: this server does not take turn metrics; sending plain turns');
        }
        return false;
      }
      if (res.status === 400 || res.status === 413) {
        // Something this livecalls may not know? Try the same events once without it.
        if (sid !== undefined && this.sidState === 'unknown') {
          withSid = false;
          this.counters.retried += batch.length;
          continue;
        }
        if (batch.length > 1) return true;
        const only = batch[0]!;
        if (extras && this.turnExtras === 'unknown') {
          plain = true;
          this.counters.retried += 1;
          continue;
        }
        this.counters.rejected++;
        if (only.type !== 'transcript') this.refusedTypes.add(only.type);
        this.warn(`refused:${only.type}`, { type: only.type, status: res.status, detail: res.detail }, 'livecalls: an event was refused');
        return false;
      }
      const retriable = res.status === null || res.status === 408 || res.status === 429 || res.status >= 500;
      if (!retriable) {
        this.counters.failed += batch.length;
        this.warn(`status:${res.status}`, { status: res.status, detail: res.detail }, 'livecalls: events refused, not retrying');
        return false;
      }
      if (attempt >= this.t.maxAttempts) {
        this.counters.failed += batch.length;
        this.warn('gave_up', { status: res.status, detail: res.detail, attempts: attempt }, 'livecalls: giving up on a batch');
        return false;
      }
      const backoff = Math.min(this.t.retryMaxMs, this.t.retryBaseMs * 2 ** (attempt - 1));
      const wait = Math.min(this.t.retryMaxMs, res.retryAfterMs ?? backoff * (0.5 + Math.random() / 2));
      if (!(await this.waitUntil(Date.now() + wait))) {
        this.counters.failed += batch.length;
        return false;
      }
      this.counters.retried += batch.length;
    }
  }

  /** Waits until `at`; false when a flush deadline or close comes first. */
  private async waitUntil(at: number): Promise<boolean> {
    for (;;) {
      if (this.closed) return false;
      if (this.closing && this.deadline !== undefined && at > this.deadline) return false;
      const left = at - Date.now();
      if (left <= 0) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        if (this.deadline === undefined) timer.unref();
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  private async post(events: LivecallsEvent[], roomSid: string | undefined): Promise<Attempt> {
    const payload: EventsBody = roomSid !== undefined ? { roomSid, events } : { events };
    const body = JSON.stringify(payload);
    const limit =
      !this.closing || this.deadline === undefined
        ? this.t.requestTimeoutMs
        : Math.min(this.t.requestTimeoutMs, Math.max(1, this.deadline - Date.now()));
    this.counters.requests++;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', authorization: await this.o.authorize(body) };
      if (this.o.workspaceId) headers['x-workspace-id'] = this.o.workspaceId;
      const res = await this.fetchImpl(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(limit) });
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, status: res.status, retryAfterMs: retryAfter(res.headers.get('retry-after')), detail: text.slice(0, 300) };
    } catch (err) {
      return { ok: false, status: null, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  /** At most one line per kind of trouble every 30 s: a dead livecalls must not flood the agent's log. */
  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(key) ?? -Infinity) < 30_000) return;
    this.lastWarn.set(key, now);
    try {
      (this.o.logger ?? consoleLogger).warn({ room: this.o.roomName, ...fields }, msg);
    } catch {
      // a logger that throws is not the agent's problem
    }
  }
}

const consoleLogger: Logger = {
  warn: (fields, msg) => console.warn(msg, fields),
};
