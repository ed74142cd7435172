/**
 * Store interfaces. Every backend implements these and passes the one contract suite in test/contract.
 * Backends keep data; they do not decide: how an event changes a call comes from the `CallFolder` they
 * are handed (domain + sentiment), so every backend folds events the same way.
 */
import type { Redis } from 'ioredis';
import type { AlertRule, AlertRuleSet } from '../alerts/rules.ts';
import type { Prices } from '../domain/telemetry-view.ts';
import type { Call, CallType, Sentiment, Turn } from '../domain/call.ts';
import type { CallEvent, EndReason } from '../domain/events.ts';
import type { StatColumns } from '../domain/stats.ts';
import type { ListView } from '../domain/view.ts';

export interface Workspace {
  id: string;
  name: string;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  createdAt: number;
  revokedAt: number | null;
}

/**
 * A workspace's own LiveKit project. `secret` is as stored: sealed with the server secret (see
 * src/control/secrets.ts), never in clear.
 */
export interface StoredLiveKitProject {
  url: string;
  apiKey: string;
  secret: string;
}

export interface WorkspaceSummary extends Workspace {
  /** The workspace's own LiveKit project, without its secret; null when it uses the configuration's. */
  livekit: { url: string; apiKey: string } | null;
}

export interface TenantStore {
  /** Every workspace, oldest first. */
  listWorkspaces(): Promise<WorkspaceSummary[]>;
  /** Sets (or, with null, removes) the workspace's own LiveKit project; false for an unknown workspace. */
  setLiveKit(workspaceId: string, project: StoredLiveKitProject | null): Promise<boolean>;
  getLiveKit(workspaceId: string): Promise<StoredLiveKitProject | undefined>;
  /** The workspaces whose own project has this API key, with that project. */
  workspacesOfLiveKitKey(apiKey: string): Promise<{ workspaceId: string; project: StoredLiveKitProject }[]>;
  /** Every distinct project workspaces named, with the workspaces on it. */
  liveKitProjects(): Promise<{ project: StoredLiveKitProject; workspaceIds: string[] }[]>;
  createWorkspace(name: string, now: number): Promise<Workspace>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  countWorkspaces(): Promise<number>;
  /** Stores only the key's hash; the returned `apiKey` is the only time the secret exists in clear. */
  createKey(workspaceId: string, now: number): Promise<{ key: ApiKeyRecord; apiKey: string }>;
  /** The key's record and stored hash, by key id (revoked keys too). */
  getKey(keyId: string): Promise<(ApiKeyRecord & { hash: Buffer }) | undefined>;
  /** The workspace's keys (revoked ones too), oldest first; never the secret or its hash. */
  listKeys(workspaceId: string): Promise<ApiKeyRecord[]>;
  /** True when the key existed and was not already revoked. */
  revokeKey(keyId: string, now: number): Promise<boolean>;
  /** The key's record when `apiKey` is a valid, unrevoked key (hash compared in constant time). */
  verifyKey(apiKey: string): Promise<ApiKeyRecord | undefined>;
  /** The workspace's alert rules; `{version: 0, rules: []}` before it saved any. */
  getAlertRules(workspaceId: string): Promise<AlertRuleSet>;
  /**
   * Replaces the workspace's alert rules and bumps the version, atomically. With `expectedVersion`, only when
   * the stored version is that one (0: none saved yet); otherwise nothing is written and the answer is undefined.
   */
  putAlertRules(workspaceId: string, rules: readonly AlertRule[], expectedVersion?: number): Promise<AlertRuleSet | undefined>;
  /** The workspace's prices; null when it set none. */
  getPrices(workspaceId: string): Promise<Prices | null>;
  putPrices(workspaceId: string, prices: Prices): Promise<void>;
}

/** How events become call state; supplied by the service layer so all backends fold identically. */
export interface CallFolder {
  newCallId(): string;
  apply(call: Call, event: CallEvent, now: number): Call;
  /**
   * Called once for each call a batch changed, after all of the batch's events were applied, with the call as
   * it was before the batch: for what depends only on the final state (sentiment), so a batch of 20 turns
   * scores the conversation once rather than 20 times.
   */
  finish?(before: Call | undefined, after: Call, now: number): Call;
  /**
   * The live feed's frames for a committed batch's changes. The store appends them to the feed as part of
   * the commit (Redis: in the same script; embedded: before anything else can commit), so the feed's order
   * is the commit order, across instances too.
   */
  frames(changes: readonly CallChange[], now: number): { event: string; data: string }[];
  /**
   * The outgoing webhook messages for a batch's changes. A store whose outbox shares its transactions
   * (`CallStore.outboxInCommit`) asks while the batch is being applied and writes them in the same commit, so
   * a committed change always has its outbox rows; a crash can lose neither without the other. Called inside
   * the transaction: synchronous, and what it throws fails the batch (nothing committed, the sender retries).
   */
  outbox?(changes: readonly CallChange[], now: number, outbox: OutboxContext): WebhookMessage[];
  /**
   * For a store whose outbox is elsewhere (`CallStore.relay`): the batch's news as opaque entries, which the
   * store keeps in the same commit until the relay moves them into the outbox. Synchronous, like `outbox`.
   */
  relay?(changes: readonly CallChange[], now: number): string[];
}

/** One entry of a batch's news kept by the call store for the outbox (see `CallStore.relay`). */
export interface RelayEntry {
  workspaceId: string;
  /** The store's id for the entry, in commit order within its workspace. */
  id: string;
  body: string;
}

/**
 * The transactional outbox of a call store that cannot write the webhook outbox in its own commits (Redis,
 * or embedded calls with the outbox in PostgreSQL): each commit keeps its news (`CallFolder.relay`), and a
 * mover takes it into the outbox and then forgets it. Moving twice is harmless (the outbox skips a message
 * id it has), so several instances may move at once and a crash between the two steps loses nothing.
 */
export interface RelayStore {
  /** The oldest entries kept, at most `limit`, each workspace's in commit order. */
  take(limit: number): Promise<RelayEntry[]>;
  /** Forgets entries that are in the outbox now; forgetting one twice is harmless. */
  done(entries: readonly RelayEntry[]): Promise<void>;
}

/** What the `outbox` hook may read from the transaction it runs in. */
export interface OutboxContext {
  /** Whether any endpoint of the workspace is subscribed to the type: nothing else is worth building. */
  wants(type: WebhookEventType): boolean;
  /** The call's full transcript, this batch's turns included. */
  transcript(callId: string): Turn[];
}

export interface CallChange {
  before: Call | undefined;
  after: Call;
}

export interface IngestResult {
  applied: number;
  duplicates: number;
  /** Calls changed by the batch, each once, with its state before and after. */
  changes: CallChange[];
  /** Ids of the events applied (not duplicates): what per-event metrics count, once each. */
  appliedIds?: readonly string[];
}

export interface CallStore {
  /**
   * True when `ingest` writes the folder's `outbox` messages in the batch's own commit (the embedded store
   * with the embedded outbox). Otherwise the store has a `relay` that keeps them in the commit for the outbox.
   */
  readonly outboxInCommit?: boolean;
  /**
   * Where a store without `outboxInCommit` keeps each commit's news for the outbox (see `RelayStore`). A store
   * with `outboxInCommit` may have one too, holding what an earlier configuration kept there.
   */
  readonly relay?: RelayStore;
  /**
   * Applies a batch of events for one room of one workspace atomically: events whose id was already
   * applied in this workspace are skipped (counted as duplicates), the rest are folded in order.
   * Resolves only once the result is durable.
   */
  ingest(workspaceId: string, roomName: string, events: readonly CallEvent[], folder: CallFolder, now: number): Promise<IngestResult>;
  /** The workspace's active calls, oldest first (start time, then id). */
  listActive(workspaceId: string): Promise<Call[]>;
  /**
   * The same calls, in the same order, as list views (`toListView`): what the list route sends. A backend
   * keeps them serialised between changes of a call and reads no more than they hold (not the live turns).
   */
  listViews(workspaceId: string): Promise<readonly ListView[]>;
  getActive(workspaceId: string, roomName: string): Promise<Call | undefined>;
  /** How many active calls the workspace has (one read, not a list). */
  countActive(workspaceId: string): Promise<number>;
  /** The most recently ended call of a room name, if any. */
  latestEnded(workspaceId: string, roomName: string): Promise<Call | undefined>;
  /** Any call of the workspace, active or ended, by its id. */
  getCall(workspaceId: string, callId: string): Promise<Call | undefined>;
  /** The call's full transcript, oldest first. */
  transcript(workspaceId: string, callId: string): Promise<Turn[]>;
  /** The workspace that owns the call of a LiveKit room sid, if any call has it. */
  workspaceOfRoomSid(roomSid: string): Promise<string | undefined>;
  /** Active calls with no activity since `before` (server time), at most `limit`. */
  listIdle(before: number, limit: number): Promise<{ workspaceId: string; roomName: string }[]>;
  /** Forgets dedupe ids seen before `before`; returns how many were dropped. */
  pruneSeen(before: number): Promise<number>;
  /**
   * Copies ended calls not yet in the archive (a failed copy right after the end) to it; returns how many.
   * A backend that is its own archive returns 0. A call that fails to copy is reported to `onFailure`, stays
   * pending and does not stop the others; an archive that cannot be reached ends the pass (it rejects).
   */
  archivePending(onFailure?: (failure: ArchiveFailure) => void): Promise<number>;
}

export interface ArchiveFailure {
  workspaceId: string;
  callId: string;
  err: unknown;
}

/**
 * Where ended calls are kept for good, with their full transcripts. `put` is an upsert keyed by call id:
 * however often a call is archived (two instances, a retry, a late event), there is one record.
 */
export interface ArchiveStore {
  put(call: Call, transcript: readonly Turn[]): Promise<void>;
  get(workspaceId: string, callId: string): Promise<Call | undefined>;
  transcript(workspaceId: string, callId: string): Promise<Turn[]>;
  latestEnded(workspaceId: string, roomName: string): Promise<Call | undefined>;
}

/** Filters of the call history; all optional, combined with AND. */
export interface HistoryQuery {
  /** Exact `aiAgentName`. */
  agent?: string;
  callType?: CallType;
  sentiment?: Sentiment;
  transferRequested?: boolean;
  endReason?: EndReason;
  /** Calls that started at or after (epoch ms). */
  from?: number;
  /** Calls that started before (epoch ms). */
  to?: number;
  /** Words (domain/history.ts `searchTerms`) that must all appear in the caller's name, number or transcript. */
  terms?: readonly string[];
}

/** Where an export has got to: the last call sent, in export order (start time, then id). */
export interface HistoryKey {
  startedAt: number;
  id: string;
}

/**
 * The workspace's ended calls, as kept by the archive (PostgreSQL in scale-out, else the embedded database),
 * indexed for filtering, full-text search, export and statistics. Every read is scoped to one workspace.
 */
export interface HistoryStore {
  /** One page, newest first (start time, then id, descending), and how many calls match in all. */
  page(workspaceId: string, query: HistoryQuery, offset: number, limit: number): Promise<{ calls: Call[]; total: number }>;
  /** An ended call of the workspace (its live transcript window may be empty: read `transcripts`). */
  get(workspaceId: string, callId: string): Promise<Call | undefined>;
  /** Full transcripts of some ended calls of the workspace, oldest turn first. */
  transcripts(workspaceId: string, callIds: readonly string[]): Promise<Map<string, Turn[]>>;
  /** Ended calls that started in [from, to), oldest first, strictly after `after`; at most `limit`. */
  exportBatch(workspaceId: string, from: number, to: number, after: HistoryKey | null, limit: number): Promise<Call[]>;
  /**
   * Ended calls in progress at some time of [from, to) (started before `to`, ended after `from`), matching the
   * filters, as columns; and, read at the same moment, which of `activeIds` (calls the live store listed as
   * active a moment before) are in the archive already, so that the statistics count each call once.
   */
  overlapping(
    workspaceId: string,
    from: number,
    to: number,
    filters: { agent?: string; callType?: CallType },
    activeIds?: readonly string[],
  ): Promise<{ calls: StatColumns; archived: string[] }>;
  /** Deletes up to `limit` ended calls (of any workspace) that ended before `endedBefore`, with their turns and index entries; returns how many. */
  purge(endedBefore: number, limit: number): Promise<number>;
}

/** One entry of a workspace's live log: what the stream sends, serialised once for every client. */
export interface FeedEntry {
  /** Opaque, increasing within a workspace; a client resumes after it. */
  id: string;
  workspaceId: string;
  event: string;
  /** The frame's data, already JSON. */
  data: string;
}

/**
 * The live log of committed changes, per workspace, shared by every instance that shares the store. It keeps
 * the last `replay` entries of each workspace so a client that was away can resume without a snapshot.
 */
export interface LiveFeed {
  /** Appends the entries, in order, and tells every subscriber on every instance. */
  publish(workspaceId: string, entries: readonly { event: string; data: string }[]): Promise<void>;
  /**
   * The entries after `afterId`, oldest first; `undefined` when the log no longer holds everything after it
   * (too old, from another boot of an embedded store, or not an id of this log): the client needs a snapshot.
   */
  since(workspaceId: string, afterId: string): Promise<FeedEntry[] | undefined>;
  /** The newest entry's id (when the log is empty, an id older than any entry): a snapshot taken after this read includes it. */
  head(workspaceId: string): Promise<string>;
  /** Negative, zero or positive as `a` is older than, the same as, or newer than `b` (ids of one log). */
  compare(a: string, b: string): number;
  /**
   * Every entry published from now on, of every workspace, in id order per workspace; returns the
   * unsubscribe function. `onGap` is called when entries may have been missed (a lost connection to a
   * shared log): subscribers then catch up with `since`.
   */
  subscribe(listener: (entry: FeedEntry) => void, onGap?: () => void): () => void;
}

/**
 * Which workspace LiveKit says a room belongs to, as seen in a verified webhook or in ListRooms: the room's
 * metadata named the workspace. This is the only proof of ownership livecalls accepts; an agent event or a
 * header only ever asserts it. Room names are unique only within a LiveKit project, so every record is
 * per project (its API key; '' when none is configured).
 */
export interface RoomOwner {
  workspaceId: string;
  roomSid: string;
  /** The room's creation time (or the event's, when unknown), epoch ms: a newer room of the name replaces it. */
  since: number;
  /** LiveKit said the room finished (or no longer lists it): the name is free for a new room. */
  ended: boolean;
}

/**
 * Room ownership per LiveKit project and room name, and the workspaces holding an *unverified* call of a
 * name (known only from agent events), so that LiveKit binding the room elsewhere can drop them. Shared by
 * every instance that shares the store; see src/calls/ownership.ts for the policy.
 */
export interface RoomRegistry {
  /**
   * Records that LiveKit bound `roomName` of `project` to `owner`. A binding of a newer room (by `since`)
   * replaces the one kept, as does one of the same sid that was not ended; an older room's late event does
   * not. True when the record now is this binding, live (written now, or already so).
   */
  bind(project: string, roomName: string, owner: Omit<RoomOwner, 'ended'>): Promise<boolean>;
  /** Marks the binding ended when it is still that sid's. */
  release(project: string, roomName: string, roomSid: string): Promise<void>;
  owner(project: string, roomName: string): Promise<RoomOwner | undefined>;
  /** Records that `workspaceId` holds an unverified call of `roomName` in `project`. */
  claim(project: string, roomName: string, workspaceId: string, now: number): Promise<void>;
  /** Workspaces holding an unverified call of `roomName` in `project` (as far as claims were recorded). */
  claimants(project: string, roomName: string): Promise<string[]>;
  unclaim(project: string, roomName: string, workspaceId: string): Promise<void>;
}

export interface Stores {
  tenants: TenantStore;
  calls: CallStore;
  feed: LiveFeed;
  webhooks: WebhookStore;
  rooms: RoomRegistry;
  /** The archive of ended calls as history: filters, search, export, statistics, retention. */
  history: HistoryStore;
  /** The shared Redis client when live state is in Redis: what else must be shared across instances uses it (the rate limit). */
  redis?: Redis;
  /**
   * Takes or renews the lease `name` for `holder` until `now + ttlMs`. True when `holder` holds it now:
   * it was free, expired (`expires_at <= now`), or already `holder`'s. Atomic across every process sharing
   * the store, so at most one holder wins a contested lease.
   */
  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Throws when a backing server is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a workspace can subscribe a webhook endpoint to. */
export type WebhookEventType = 'call.started' | 'call.ended' | 'call.transfer_requested' | 'call.sentiment_changed' | 'call.alert';

/** An HTTPS endpoint a workspace registered for outgoing webhooks. */
export interface WebhookEndpoint {
  id: string;
  workspaceId: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  /** The Standard Webhooks signing secret (`whsec_` + base64). Kept in clear: every delivery is signed with it. */
  secret: string;
  createdAt: number;
}

/** One event to send, the same for every endpoint it fans out to. */
export interface WebhookMessage {
  /** The `webhook-id`: stable across retries and endpoints; enqueuing the same id again is a no-op. */
  id: string;
  workspaceId: string;
  type: WebhookEventType;
  /** The exact body sent and signed. */
  payload: string;
}

/** pending: an attempt is due at `nextAttemptAt`; delivered: a 2xx came back; failed: attempts ran out. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  /** 1 for the first send. */
  attempt: number;
  at: number;
  /** The endpoint's HTTP status; null when no response came (timeout, refused connection, DNS). */
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
}

/** One message to one endpoint: the outbox row and its delivery log. */
export interface WebhookDelivery {
  endpointId: string;
  workspaceId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: number | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  /** Every recorded attempt, oldest first. */
  history: DeliveryAttempt[];
}

/** A due delivery a worker holds for the lease: everything it needs to send it. */
export interface ClaimedDelivery {
  endpointId: string;
  workspaceId: string;
  eventId: string;
  eventType: WebhookEventType;
  url: string;
  secret: string;
  payload: string;
  /** Attempts already recorded: this send is attempt `attempts + 1`. */
  attempts: number;
}

/** `perWorkspace` when a claim names none: no cap. */
export const NO_WORKSPACE_CAP = 1_000_000_000;
/** The outcome of one attempt: `status` pending means "retry at `nextAttemptAt`". */
export interface AttemptOutcome extends DeliveryAttempt {
  status: DeliveryStatus;
  nextAttemptAt: number | null;
}

/**
 * Webhook endpoints, the durable outbox of deliveries and their log. Shared by every instance that shares
 * the store: `claim` hands each due delivery to one holder at a time (a lease; a holder that vanished loses
 * it when the lease runs out), and only that holder can record the attempt.
 */
export interface WebhookStore {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** The workspace's endpoints, oldest first. */
  listEndpoints(workspaceId: string): Promise<WebhookEndpoint[]>;
  getEndpoint(workspaceId: string, id: string): Promise<WebhookEndpoint | undefined>;
  /** Removes the endpoint with its deliveries and their log; false when the workspace has no such endpoint. */
  deleteEndpoint(workspaceId: string, id: string): Promise<boolean>;
  /**
   * Records the message and one pending delivery, due at `now`, for each endpoint of its workspace subscribed
   * to its type; returns how many. A message id already enqueued creates nothing (returns 0).
   */
  enqueue(message: WebhookMessage, now: number): Promise<number>;
  /**
   * Takes up to `limit` pending deliveries due at `now` (oldest due first) that no one holds, for `holder`
   * for `leaseMs`, leaving out a workspace's once `perWorkspace` of its deliveries are held (by any holder,
   * these included). Two concurrent claims never return the same delivery. The lease is measured on the
   * store's own clock (the database's), never on `now`: instances whose clocks differ cannot break each
   * other's leases. Concurrent claims on PostgreSQL may each see the same held count, so the cap holds per
   * claim, not exactly across instances.
   */
  claim(holder: string, now: number, leaseMs: number, limit: number, perWorkspace?: number): Promise<ClaimedDelivery[]>;
  /**
   * Records attempt `outcome.attempt` of a delivery `holder` claimed, and releases it. False (nothing recorded)
   * when the claim was lost: another holder took it after the lease ran out, or it was recorded already.
   */
  recordAttempt(holder: string, endpointId: string, eventId: string, outcome: AttemptOutcome): Promise<boolean>;
  /** The endpoint's deliveries, newest first, at most `limit`; empty for another workspace's endpoint. */
  listDeliveries(workspaceId: string, endpointId: string, limit: number): Promise<WebhookDelivery[]>;
  /** Forgets delivered and failed deliveries last updated before `before`, and messages left without any; returns how many deliveries. */
  prune(before: number): Promise<number>;
}
