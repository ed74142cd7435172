/**
 * The calls service: what the routes and ingest adapters call. It resolves workspaces, hands events to the
 * store with the one way of folding them (domain + sentiment), and reads calls back in wire shape.
 */
import { randomBytes } from 'node:crypto';
import type { WebhookEvent } from 'livekit-server-sdk';
import type { ConversationAnalyzer, Insights } from '../analysis/index.ts';
import { applyEvent, isActive, type Call } from '../domain/call.ts';
import { outcomeOf } from './history-record.ts';
import { describeChange, type CallDelta } from '../domain/changes.ts';
import { framesOf } from '../live/frames.ts';
import type { CallEvent } from '../domain/events.ts';
import {
  customerName,
  customerPhone,
  sentimentDetail,
  toActiveCallDetails,
  type ActiveCallDetails,
  type SentimentDetail,
} from '../domain/view.ts';
import { AppError } from '../errors.ts';
import { mapWebhook } from '../ingest/livekit.ts';
import { listResponse, type ListQuery } from './list.ts';
import type { CallChange, CallFolder, CallStore, IngestResult, OutboxContext, TenantStore, WebhookMessage } from '../store/types.ts';
import type { Metrics } from '../metrics.ts';
import type { Logger } from 'pino';
import type { RoomOwnership } from './ownership.ts';
import type { WorkspaceSettings } from './settings.ts';
import { AgentLabels, observeTelemetry } from './telemetry-metrics.ts';
import { evaluateAlerts } from '../alerts/evaluate.ts';

export type Clock = () => number;

export interface EndCallOutcome {
  call: Call;
  alreadyEnded: boolean;
  /** LiveKit no longer knew the room (it had already closed). */
  roomWasGone: boolean;
}

export interface WebhookOutcome {
  status: 'applied' | 'duplicate' | 'ignored';
  reason?: string;
  roomName?: string;
}

/** A 24-hex-digit id, like the reference's database object ids. */
export function newCallId(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Told of every committed change, after the store made it durable: outgoing webhooks listen here. (The
 * live stream does not: its frames are appended by the store as part of the commit, see `CallFolder.frames`.)
 * A listener's failure is logged and counted; it never fails the ingest that was already acknowledged to the
 * store (the events are recorded; re-sending them would be deduplicated away).
 */
export type ChangeListener = (workspaceId: string, deltas: readonly CallDelta[], now: number) => Promise<void> | void;

/**
 * Builds a batch's outgoing webhook messages from its changes, inside the store's transaction (see
 * `CallFolder.outbox`): synchronous, reading only through `outbox`.
 */
export type OutboxBuilder = (deltas: readonly CallDelta[], now: number, outbox: OutboxContext) => WebhookMessage[];

/** A batch's news as the entries a store's relay keeps (see `CallFolder.relay`): synchronous, no I/O. */
export type RelayBuilder = (deltas: readonly CallDelta[], now: number) => string[];

export class CallService {
  readonly folder: CallFolder;
  private readonly listeners: { name: string; fn: ChangeListener }[] = [];
  /** Changes already described, by the call state they produced (see `deltaOf`). */
  private readonly described = new WeakMap<Call, CallDelta | null>();
  /** Room names already logged as not belonging to a known workspace (log once, not per event). */
  private readonly unknownRoomsLogged = new Set<string>();
  /**
   * Workspaces webhooks named that exist: a workspace is never deleted, so once seen it need not be looked up
   * again (a store query per webhook otherwise). Unknown ones are asked again every time.
   */
  private readonly knownWorkspaces = new Set<string>();
  /** Room ownership as LiveKit proves it (see ./ownership.ts); set by the composition root. */
  ownership: RoomOwnership | undefined;
  /** Active calls of a workspace beyond which asserted agent events open no new call (see `admitAsserted`). */
  maxActiveCalls = Number.POSITIVE_INFINITY;
  /** Workspaces' alert rules and prices (see ./settings.ts); set by the composition root. Without it, no alerts. */
  settings: WorkspaceSettings | undefined;
  private readonly agentLabels = new AgentLabels();
  /** What the folder's `outbox` hook builds messages with; none until the composition root sets it. */
  private outboxBuilder: OutboxBuilder | undefined;
  private relayBuilder: RelayBuilder | undefined;

  constructor(
    private readonly calls: CallStore,
    private readonly tenants: TenantStore,
    private readonly analyzer: ConversationAnalyzer,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.folder = {
      newCallId,
      apply: applyEvent,
      // Sentiment depends on the transcript and the transfer request alone: scored once per batch, and only
      // when a turn was added or a transfer was first requested.
      finish: (before, after, now) => {
        const unchanged = before && before.turnCount === after.turnCount && (before.transfer === null) === (after.transfer === null);
        let call = after;
        if (!unchanged) {
          const s = this.analyzer.sentiment(after.transcript, { transferRequested: after.transfer !== null });
          call = { ...after, sentiment: s.label, sentimentScore: s.score, sentimentTrend: s.trend, sentimentSignals: s.signals };
        }
        // Topics and summary are kept from the end on (the call history lists them); the same window as live insights.
        if (!isActive(call) && (!unchanged || !call.outcome || !before || isActive(before))) {
          call = { ...call, outcome: outcomeOf(this.analyzer, call, call.transcript) };
        }
        // Alerts read the sentiment, so they come after it. The rules were loaded before the batch (see ingest).
        const rules = this.settings?.peek(call.workspaceId)?.rules;
        return rules ? evaluateAlerts(before, call, rules, now) : call;
      },
      frames: (changes, now) =>
        changes.flatMap((c) => {
          const delta = this.deltaOf(c);
          return delta ? framesOf(delta, now) : [];
        }),
      outbox: (changes, now, outbox) => {
        if (!this.outboxBuilder) return [];
        const deltas = changes.map((c) => this.deltaOf(c)).filter((d): d is CallDelta => d !== undefined);
        return deltas.length > 0 ? this.outboxBuilder(deltas, now, outbox) : [];
      },
      relay: (changes, now) => {
        if (!this.relayBuilder) return [];
        const deltas = changes.map((c) => this.deltaOf(c)).filter((d): d is CallDelta => d !== undefined);
        return deltas.length > 0 ? this.relayBuilder(deltas, now) : [];
      },
    };
  }

  /**
   * Sets what builds outgoing webhooks in the commit, for a store that writes them there
   * (`CallStore.outboxInCommit`).
   */
  useOutbox(builder: OutboxBuilder): void {
    this.outboxBuilder = builder;
  }

  /** Sets what a store with a relay (`CallStore.relay`) keeps of each commit's news for the outbox. */
  useRelay(builder: RelayBuilder): void {
    this.relayBuilder = builder;
  }

  async ingest(
    workspaceId: string,
    roomName: string,
    events: readonly CallEvent[],
    source: 'agent' | 'livekit' | 'api',
  ): Promise<IngestResult> {
    // Loaded before the fold, which is synchronous and reads them from memory; a store that cannot say does not
    // stop the ingest (the last known rules, or none, apply).
    await this.settings?.get(workspaceId).catch((err: unknown) => this.log.warn({ err, workspaceId }, 'alert rules unavailable'));
    const now = this.clock();
    const result = await this.calls.ingest(workspaceId, roomName, events, this.folder, now);
    observeTelemetry(this.metrics, this.agentLabels, events, result);
    this.metrics.eventsIngested.inc({ source, result: 'applied' }, result.applied);
    this.metrics.eventsIngested.inc({ source, result: 'duplicate' }, result.duplicates);
    if (result.applied > 0) {
      // Clock skew can put an event's time after ours: counted as no lag rather than dropped.
      for (const event of events) this.metrics.ingestLag.observe({ source }, Math.max(0, this.clock() - event.at) / 1000);
    }
    if (this.listeners.length > 0 && result.changes.length > 0) {
      const deltas = result.changes.map((c) => this.deltaOf(c)).filter((d): d is CallDelta => d !== undefined);
      if (deltas.length > 0) await this.notify(workspaceId, deltas, now);
    }
    return result;
  }

  /**
   * The news in one change, described once: the store asks for it (frames, in the commit) and the listeners
   * after it, for the same change object.
   */
  private deltaOf(change: CallChange): CallDelta | undefined {
    if (this.described.has(change.after)) return this.described.get(change.after) ?? undefined;
    const described = describeChange(change.before, change.after);
    const delta = described && { ...described, prices: this.settings?.peek(change.after.workspaceId)?.prices ?? null };
    this.described.set(change.after, delta ?? null);
    return delta;
  }

  /** Registers a listener for committed changes (see `ChangeListener`). */
  onChange(name: string, fn: ChangeListener): void {
    this.listeners.push({ name, fn });
  }

  private async notify(workspaceId: string, deltas: readonly CallDelta[], now: number): Promise<void> {
    await Promise.all(
      this.listeners.map(async ({ name, fn }) => {
        try {
          await fn(workspaceId, deltas, now);
        } catch (err) {
          this.metrics.changeListenerFailures.inc({ listener: name });
          this.log.error({ err, workspaceId, listener: name }, 'change listener failed');
        }
      }),
    );
  }

  /**
   * A verified LiveKit webhook. `project`: the LiveKit API key that signed it ('' for the configuration's
   * own project); a project can only touch the workspaces bound to it (see `resolveWorkspace`).
   */
  async ingestWebhook(webhook: WebhookEvent, project = ''): Promise<WebhookOutcome> {
    const mapped = mapWebhook(webhook, this.clock());
    if (mapped.kind === 'ignored') {
      this.metrics.webhooksIgnored.inc({ reason: mapped.reason });
      return { status: 'ignored', reason: mapped.reason };
    }
    const { roomName, roomSid, event } = mapped.value;
    const workspaceId = await this.resolveWorkspace(mapped.value.workspaceId, roomName, roomSid, project);
    if (!workspaceId) {
      this.metrics.webhooksIgnored.inc({ reason: 'unknown_workspace' });
      if (!this.unknownRoomsLogged.has(roomName)) {
        if (this.unknownRoomsLogged.size >= 10_000) this.unknownRoomsLogged.clear();
        this.unknownRoomsLogged.add(roomName);
        this.log.warn({ roomName, workspaceId: mapped.value.workspaceId }, 'webhook for a room that names no known workspace: ignored');
      }
      return { status: 'ignored', reason: 'unknown_workspace', roomName };
    }
    const result = await this.ingestFromLiveKit(workspaceId, roomName, roomSid, [event], project);
    return { status: result.applied > 0 ? 'applied' : 'duplicate', roomName };
  }

  /** Events LiveKit itself vouched for (a verified webhook, ListRooms): they bind the room to the workspace. */
  async ingestFromLiveKit(
    workspaceId: string,
    roomName: string,
    roomSid: string | null,
    events: readonly CallEvent[],
    project: string,
  ): Promise<IngestResult> {
    const result = await this.ingest(workspaceId, roomName, events, 'livekit');
    for (const event of events) await this.ownership?.confirmed(workspaceId, roomName, roomSid, event, project);
    return result;
  }

  private async resolveWorkspace(
    named: string | null,
    roomName: string,
    roomSid: string | null,
    project: string,
  ): Promise<string | undefined> {
    if (named && !(await this.projectMayTouch(named, project))) return undefined;
    if (named && (this.knownWorkspaces.has(named) || (await this.tenants.getWorkspace(named)))) {
      if (this.knownWorkspaces.size >= 100_000) this.knownWorkspaces.clear();
      this.knownWorkspaces.add(named);
      return named;
    }
    // Metadata may be missing from an event (or set after creation): fall back to what this project's own
    // events bound the room to. Never to a room sid alone: a sid is a string any other project can name too
    // (its own ListRooms or webhooks may carry it), and whoever named it last must not decide.
    if (!named && roomSid) {
      const owner = this.ownership ? await this.ownership.owner(project, roomName) : undefined;
      if (this.ownership && !owner) return undefined;
      // The room the name is bound to now; or an older room of the name, whose call is in that same workspace.
      const known = owner?.roomSid === roomSid ? owner.workspaceId : await this.calls.workspaceOfRoomSid(roomSid);
      if (known && (!owner || known === owner.workspaceId) && (await this.projectMayTouch(known, project))) return known;
    }
    return undefined;
  }

  /** Set by the composition root: whether LiveKit project `project` serves `workspaceId` (see services.ts). */
  projectMayTouch: (workspaceId: string, project: string) => Promise<boolean> = async () => true;

  /**
   * Agent events a workspace only asserts (its API key, not LiveKit's word) may open a new call only while the
   * workspace has fewer than `maxActiveCalls` active calls: each call is memory, list bytes and stream
   * snapshots for every instance, and a key alone could otherwise open calls without end. Events for a call
   * that is already active always go through; calls LiveKit announces are never refused.
   */
  async admitAsserted(workspaceId: string, roomName: string): Promise<void> {
    if (!Number.isFinite(this.maxActiveCalls)) return;
    // The count first: one cheap read, and below the cap nothing else is asked.
    const active = await this.calls.countActive(workspaceId);
    if (active >= this.maxActiveCalls && !(await this.calls.getActive(workspaceId, roomName))) {
      throw new AppError(
        'too_many_calls',
        `the workspace has ${active} active calls, the most that agent events sent with an API key may open (LIVECALLS_MAX_ACTIVE_CALLS); events for its active calls, and calls LiveKit announces, are still taken`,
      );
    }
  }

  /** The list response's JSON bytes (`{data, count, timestamp}`, and `nextCursor` when paging): see calls/list.ts. */
  async listBytes(workspaceId: string, query: ListQuery = {}): Promise<Buffer> {
    const views = await this.calls.listViews(workspaceId);
    return listResponse(views, query, this.clock());
  }

  /** The same, as a string. */
  async listBody(workspaceId: string, query: ListQuery = {}): Promise<string> {
    return (await this.listBytes(workspaceId, query)).toString('utf8');
  }

  async activeCall(workspaceId: string, roomName: string): Promise<Call> {
    const call = await this.calls.getActive(workspaceId, roomName);
    if (!call) throw new AppError('not_found', `no active call in room "${roomName}"`);
    return call;
  }

  async details(workspaceId: string, roomName: string): Promise<ActiveCallDetails> {
    const call = await this.activeCall(workspaceId, roomName);
    const transcript = await this.calls.transcript(workspaceId, call.id);
    return toActiveCallDetails(call, transcript, this.clock());
  }

  async insights(workspaceId: string, roomName: string): Promise<Insights & SentimentDetail> {
    return this.offlineInsights(await this.activeCall(workspaceId, roomName));
  }

  /** The offline models' insights of a call (the default, and the fallback for LLM insights). */
  offlineInsights(call: Call): Insights & SentimentDetail {
    const insights = this.analyzer.insights(call.transcript, {
      customerName: customerName(call),
      customerPhone: customerPhone(call),
      transferRequested: call.transfer !== null,
    });
    // The call's sentiment is the one source of truth, so list, details and insights agree.
    return { ...insights, sentiment: call.sentiment, ...sentimentDetail(call) };
  }

  /**
   * Ends the call here (after LiveKit, if configured, has ended the room). `at`: when the end was decided, if
   * before now (an end-call is the moment it was asked for, before LiveKit deleted the room).
   */
  async endHere(
    workspaceId: string,
    call: Call,
    reason: 'ended_by_api' | 'stale' | 'reconciled' | 'not_owner',
    at?: number,
  ): Promise<Call> {
    const now = at ?? this.clock();
    const result = await this.ingest(
      workspaceId,
      call.roomName,
      [{ type: 'call_ended', id: `${reason}:${call.id}`, at: now, reason }],
      'api',
    );
    const ended = result.changes.find((c) => c.after.id === call.id)?.after ?? (await this.calls.getCall(workspaceId, call.id)) ?? call;
    await this.ownership?.callEnded(workspaceId, ended);
    return ended;
  }
}
