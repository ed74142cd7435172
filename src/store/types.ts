/**
 * Store interfaces. Every backend implements these and passes the one contract suite in test/contract.
 * Backends keep data; they do not decide: how an event changes a call comes from the `CallFolder` they
 * are handed (domain + sentiment), so every backend folds events the same way.
 */
import type { Call, Turn } from '../domain/call.ts';
import type { CallEvent } from '../domain/events.ts';

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

export interface TenantStore {
  createWorkspace(name: string, now: number): Promise<Workspace>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  countWorkspaces(): Promise<number>;
  /** Stores only the key's hash; the returned `apiKey` is the only time the secret exists in clear. */
  createKey(workspaceId: string, now: number): Promise<{ key: ApiKeyRecord; apiKey: string }>;
  /** True when the key existed and was not already revoked. */
  revokeKey(keyId: string, now: number): Promise<boolean>;
  /** The key's record when `apiKey` is a valid, unrevoked key (hash compared in constant time). */
  verifyKey(apiKey: string): Promise<ApiKeyRecord | undefined>;
}

/** How events become call state; supplied by the service layer so all backends fold identically. */
export interface CallFolder {
  newCallId(): string;
  apply(call: Call, event: CallEvent, now: number): Call;
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
}

export interface CallStore {
  /**
   * Applies a batch of events for one room of one workspace atomically: events whose id was already
   * applied in this workspace are skipped (counted as duplicates), the rest are folded in order.
   * Resolves only once the result is durable.
   */
  ingest(workspaceId: string, roomName: string, events: readonly CallEvent[], folder: CallFolder, now: number): Promise<IngestResult>;
  /** The workspace's active calls, oldest first (start time, then id). */
  listActive(workspaceId: string): Promise<Call[]>;
  getActive(workspaceId: string, roomName: string): Promise<Call | undefined>;
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
   * A backend that is its own archive returns 0.
   */
  archivePending(): Promise<number>;
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

export interface Stores {
  tenants: TenantStore;
  calls: CallStore;
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
