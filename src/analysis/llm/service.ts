/**
 * LLM insights, computed in the background and kept per call; the offline insights stay the answer whenever
 * there is no fitting LLM result.
 *
 * Policy, and why:
 *  - Once per transcript change, debounced: a change (re)starts the call's timer, and the call is sent when
 *    its transcript has stayed unchanged for `debounceMs` (or at the latest `MAX_WAIT_DEBOUNCES` debounces
 *    after the first unsent change, so a call that never pauses is still seen). Several turns in quick
 *    succession make one request, for the transcript as it is when the request starts.
 *  - Never in the way: ingest only (re)starts a timer; the insights route only reads the cache. A request
 *    has `timeoutMs`; `concurrency` requests run at once, all workspaces together; each workspace has
 *    `ratePerMinute` requests (a call waits its turn rather than being dropped; its newest transcript goes).
 *  - A failure (timeout, 429, 5xx, refused connection, malformed or schema-violating JSON) is logged,
 *    counted (`livecalls_llm_requests_total{result}`) and backs every request off (throttle.ts): the model
 *    is shared, so one failure is news for all. A transient failure (not a bad answer) is retried once per
 *    transcript version after the backoff; the next transcript change tries again in any case.
 *  - The cache is per call, keyed by workspace and call id, and remembers the transcript version (turn count
 *    and last turn id) its result was computed from; it is dropped when the call ends.
 *  - One request carries one call's turns (prompt.ts): workspaces never meet in a request or in the cache.
 */
import type { Logger } from 'pino';
import type { LlmConfig } from '../../config.ts';
import type { Call } from '../../domain/call.ts';
import type { CallDelta } from '../../domain/changes.ts';
import type { Metrics } from '../../metrics.ts';
import { ChatCompletionsClient, LlmError, type LlmFailure } from './client.ts';
import { insightMessages } from './prompt.ts';
import type { LlmAnswer } from './schema.ts';
import { Backoff, realTimers, WorkspaceRate, type Timers } from './throttle.ts';

/** A call that keeps changing is sent at the latest this many debounce periods after its first unsent change. */
export const MAX_WAIT_DEBOUNCES = 4;
/** Calls remembered at most (the oldest idle one is forgotten first); calls are forgotten when they end anyway. */
export const MAX_CALLS = 20_000;
/** Attempts per transcript version when the failure is transient (timeout, 429, 5xx, connection). */
const ATTEMPTS_PER_VERSION = 2;
const TRANSIENT: ReadonlySet<LlmFailure> = new Set(['timeout', 'rate_limited', 'http_error', 'connection']);

export interface LlmResult {
  answer: LlmAnswer;
  model: string;
  /** The transcript version the answer was computed from. */
  turnCount: number;
  lastTurnId: string;
  generatedAt: number;
}

/** What the insights route gets: a result that fits the call's transcript now, and how far behind it is. */
export interface LlmView extends LlmResult {
  /** Turns added since the result's transcript (0: it covers the current transcript). */
  turnsBehind: number;
}

interface Entry {
  key: string;
  workspaceId: string;
  callId: string;
  /** The newest state of the call seen. */
  call: Call;
  debounce: unknown;
  firstUnsentAt: number | null;
  running: boolean;
  /** Changed (and debounced) while a request ran: goes again when it ends. */
  dirty: boolean;
  result: LlmResult | undefined;
  attemptedVersion: string;
  attempts: number;
  deferred: Set<string>;
}

export interface LlmInsightsOptions {
  config: Readonly<LlmConfig>;
  metrics: Metrics;
  log: Logger;
  timers?: Timers;
}

const versionOf = (call: Call): string => `${call.turnCount}:${call.transcript.at(-1)?.id ?? ''}`;

export class LlmInsights {
  readonly client: ChatCompletionsClient;
  private readonly config: Readonly<LlmConfig>;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly entries = new Map<string, Entry>();
  /** Calls whose debounce has elapsed, waiting for a slot, their workspace's rate, or the backoff. */
  private readonly ready = new Set<string>();
  private readonly inflight = new Map<Promise<void>, AbortController>();
  private readonly rate: WorkspaceRate;
  private readonly backoff = new Backoff();
  private wake: { handle: unknown; at: number } | null = null;
  private stopped = false;

  constructor(options: LlmInsightsOptions) {
    this.config = options.config;
    this.metrics = options.metrics;
    this.log = options.log;
    this.timers = options.timers ?? realTimers;
    this.rate = new WorkspaceRate(this.config.ratePerMinute);
    const { url, model, apiKey, responseFormat } = this.config;
    this.client = new ChatCompletionsClient({ url, model, apiKey, responseFormat });
  }

  /** The change listener (calls/service.ts `onChange`): new turns schedule a request, an ended call is forgotten. */
  readonly onChange = (workspaceId: string, deltas: readonly CallDelta[]): void => {
    for (const d of deltas) {
      if (d.ended) this.forget(workspaceId, d.call.id);
      else if (d.newTurns.length > 0 || d.aspects.includes('transcript')) this.transcriptChanged(workspaceId, d.call);
    }
  };

  /** The call's transcript changed: (re)starts its debounce unless this version is already done or running. */
  transcriptChanged(workspaceId: string, call: Call): void {
    if (this.stopped || call.workspaceId !== workspaceId || !call.transcript.some((t) => t.content.trim() !== '')) return;
    const entry = this.entryFor(workspaceId, call);
    const version = versionOf(call);
    if (entry.result && `${entry.result.turnCount}:${entry.result.lastTurnId}` === version) return;
    entry.call = call;
    const now = this.timers.now();
    entry.firstUnsentAt ??= now;
    if (entry.debounce !== null) this.timers.clearTimeout(entry.debounce);
    const latest = entry.firstUnsentAt + MAX_WAIT_DEBOUNCES * this.config.debounceMs;
    const delay = Math.max(0, Math.min(this.config.debounceMs, latest - now));
    entry.debounce = this.timers.setTimeout(() => this.debounced(entry), delay);
  }

  /** The LLM result for this call, if there is one for its transcript now or at most `maxLagTurns` behind. */
  forCall(workspaceId: string, call: Call): LlmView | undefined {
    const entry = this.entries.get(keyOf(workspaceId, call.id));
    const result = entry?.workspaceId === workspaceId ? entry.result : undefined;
    if (!result) return undefined;
    const sameTurns = result.turnCount === call.turnCount;
    const current = sameTurns && result.lastTurnId === (call.transcript.at(-1)?.id ?? '');
    // Same count, another last turn: a late turn took a place; at least one turn is missing from the result.
    const turnsBehind = current ? 0 : Math.max(1, call.turnCount - result.turnCount);
    return turnsBehind <= this.config.maxLagTurns ? { ...result, turnsBehind } : undefined;
  }

  /** Resolves when no request is in flight (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.keys()]);
  }

  /** Stops scheduling, abandons requests in flight (their calls keep the offline insights) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.debounce !== null) this.timers.clearTimeout(e.debounce);
    if (this.wake) this.timers.clearTimeout(this.wake.handle);
    this.wake = null;
    this.ready.clear();
    for (const controller of this.inflight.values()) controller.abort(new LlmError('aborted', 'shutting down'));
    await this.settled();
  }

  private entryFor(workspaceId: string, call: Call): Entry {
    const key = keyOf(workspaceId, call.id);
    const known = this.entries.get(key);
    if (known) return known;
    if (this.entries.size >= MAX_CALLS) {
      for (const e of this.entries.values()) {
        if (!e.running && e.debounce === null && !this.ready.has(e.key)) {
          this.entries.delete(e.key);
          break;
        }
      }
    }
    const entry: Entry = {
      key,
      workspaceId,
      callId: call.id,
      call,
      debounce: null,
      firstUnsentAt: null,
      running: false,
      dirty: false,
      result: undefined,
      attemptedVersion: '',
      attempts: 0,
      deferred: new Set(),
    };
    this.entries.set(key, entry);
    return entry;
  }

  private forget(workspaceId: string, callId: string): void {
    const key = keyOf(workspaceId, callId);
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.debounce !== null) this.timers.clearTimeout(entry.debounce);
    this.ready.delete(key);
    this.entries.delete(key);
  }

  private debounced(entry: Entry): void {
    entry.debounce = null;
    if (this.stopped || this.entries.get(entry.key) !== entry) return;
    if (entry.running) entry.dirty = true;
    else this.makeReady(entry);
    this.pump();
  }

  private makeReady(entry: Entry): void {
    entry.deferred.clear();
    this.ready.add(entry.key);
  }

  private defer(entry: Entry, reason: 'workspace_rate' | 'backoff' | 'concurrency'): void {
    if (entry.deferred.has(reason)) return;
    entry.deferred.add(reason);
    this.metrics.llmDeferred.inc({ reason });
  }

  /** Starts what may start now; arms one timer for the earliest moment something else may. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.timers.now();
    if (now < this.backoff.until) {
      for (const key of this.ready) {
        const e = this.entries.get(key);
        if (e) this.defer(e, 'backoff');
      }
      if (this.ready.size > 0) this.wakeAt(this.backoff.until);
      return;
    }
    for (const key of [...this.ready]) {
      const entry = this.entries.get(key);
      if (!entry) {
        this.ready.delete(key);
        continue;
      }
      if (this.inflight.size >= this.config.concurrency) {
        this.defer(entry, 'concurrency');
        continue; // a finishing request pumps again
      }
      const wait = this.rate.take(entry.workspaceId, now);
      if (wait > 0) {
        this.defer(entry, 'workspace_rate');
        this.wakeAt(now + wait);
        continue;
      }
      this.ready.delete(key);
      this.start(entry);
    }
  }

  private wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) this.timers.clearTimeout(this.wake.handle);
    const handle = this.timers.setTimeout(
      () => {
        this.wake = null;
        this.pump();
      },
      Math.max(0, at - this.timers.now()),
    );
    this.wake = { handle, at };
  }

  private start(entry: Entry): void {
    const controller = new AbortController();
    const run = this.run(entry, controller).finally(() => {
      this.inflight.delete(run);
      this.pump();
    });
    this.inflight.set(run, controller);
  }

  private async run(entry: Entry, controller: AbortController): Promise<void> {
    const call = entry.call;
    const version = versionOf(call);
    if (entry.attemptedVersion !== version) {
      entry.attemptedVersion = version;
      entry.attempts = 0;
    }
    entry.attempts += 1;
    entry.firstUnsentAt = null;
    entry.running = true;
    const started = this.timers.now();
    const timeout = this.timers.setTimeout(
      () => controller.abort(new LlmError('timeout', `no answer from the LLM server within ${this.config.timeoutMs} ms`)),
      this.config.timeoutMs,
    );
    try {
      const answer = await this.client.insights(insightMessages(call.transcript, this.config.maxTranscriptChars), controller.signal);
      this.observe('ok', started);
      this.backoff.succeeded();
      if (this.client.downgraded) {
        this.client.downgraded = false;
        this.log.warn({ model: this.client.model }, 'the LLM server refused json_schema output: asking for json_object from now on');
      }
      entry.result = {
        answer,
        model: this.client.model,
        turnCount: call.turnCount,
        lastTurnId: call.transcript.at(-1)?.id ?? '',
        generatedAt: this.timers.now(),
      };
    } catch (err) {
      const failure = err instanceof LlmError ? err : new LlmError('malformed', 'unexpected LLM failure');
      if (failure.kind === 'aborted') return;
      this.observe(failure.kind, started);
      const waitMs = this.backoff.failed(this.timers.now(), failure.retryAfterMs);
      const retry = TRANSIENT.has(failure.kind) && entry.attempts < ATTEMPTS_PER_VERSION;
      this.log.warn(
        { workspaceId: entry.workspaceId, callId: entry.callId, result: failure.kind, status: failure.status, backoffMs: waitMs, retry },
        `LLM insights failed, offline insights meanwhile: ${failure.message}`,
      );
      if (retry && this.entries.get(entry.key) === entry) entry.dirty = true;
    } finally {
      this.timers.clearTimeout(timeout);
      entry.running = false;
      if (entry.dirty && !this.stopped && this.entries.get(entry.key) === entry) {
        entry.dirty = false;
        this.makeReady(entry);
      }
    }
  }

  private observe(result: LlmFailure | 'ok', started: number): void {
    this.metrics.llmRequests.inc({ result });
    this.metrics.llmRequestDuration.observe({ result }, Math.max(0, this.timers.now() - started) / 1000);
  }
}

function keyOf(workspaceId: string, callId: string): string {
  return `${workspaceId}\u0000${callId}`;
}
