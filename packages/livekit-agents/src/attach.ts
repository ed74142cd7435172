/**
 * `attachLivecalls(session, ctx)`: listens to a LiveKit Agents session and feeds livecalls.
 *
 * The handlers run on the agent's event loop, between audio frames: each one translates its event into a
 * small object and hands it to the sender's bounded queue. Nothing in them awaits, does I/O or throws.
 *
 * Ids are `{sessionKey}:{kind}:{n}` (a transcript turn: `{sessionKey}:msg:{item id}`): fixed when the event
 * is made, so every retry of it carries the same id, and scoped by a key per attached session, so two
 * sessions in one room never collide.
 */
import { randomBytes } from 'node:crypto';
import { voice } from '@livekit/agents';
import type { LivecallsEventType, UsageTotals } from './events.ts';
import { EventSender, type Logger, type SenderStats } from './sender.ts';
import type { SenderTuning } from './tuning.ts';
import { roomSigner } from './sign.ts';
import {
  fromAgentState,
  fromClose,
  fromConversationItem,
  fromError,
  fromFalseInterruption,
  fromToolsExecuted,
  fromUsage,
  fromUserState,
  sameUsage,
  usageTotals,
} from './translate.ts';

/** What the bridge reads from the job: a `JobContext` of `@livekit/agents` has all of it. */
export interface JobContextLike {
  room: { name?: string | undefined; getSid?: () => Promise<string> };
  job?: { room?: { name?: string; sid?: string; metadata?: string } | undefined };
  addShutdownCallback?: (callback: () => Promise<void>) => void;
}

export interface LivecallsOptions extends Partial<SenderTuning> {
  /** livecalls' base URL. Default: `LIVECALLS_URL`. */
  url?: string;
  /** The worker's LiveKit key pair. Default: `LIVEKIT_API_KEY` / `LIVEKIT_API_SECRET`. */
  apiKey?: string;
  apiSecret?: string;
  /**
   * Sent as `x-workspace-id`, needed only until LiveKit's webhooks (or ListRooms) have told livecalls whose
   * room it is. Default: `workspaceId` of the job's room metadata, else `LIVECALLS_WORKSPACE_ID`.
   */
  workspaceId?: string;
  /** Default: the job's room name. */
  roomName?: string;
  /** Default: the job's room sid (or `ctx.room.getSid()` once connected). */
  roomSid?: string;
  /** Scopes event ids; default: random per attached session. */
  sessionKey?: string;
  /** Event types to send; default: all. */
  types?: LivecallsEventType[];
  /** How long the flush on `close` (and at job shutdown) may take. Default 2,000 ms. */
  closeTimeoutMs?: number;
  fetch?: typeof fetch;
  logger?: Logger;
}

export interface BridgeStats extends SenderStats {
  /**
   * Session events translated and handed to the sender; always
   * `sent + queued + inFlight + dropped + failed + rejected + merged`.
   */
  events: number;
}

export interface LivecallsBridge {
  /** False when the bridge could not start (no URL, key pair or room name); it then does nothing. */
  readonly enabled: boolean;
  readonly sessionKey: string;
  stats(): BridgeStats;
  /** Sends what is waiting; resolves when done or after `timeoutMs`. Never rejects. */
  flush(timeoutMs?: number): Promise<void>;
  /** Stops listening to the session (what is queued is still sent). */
  detach(): void;
}

type Env = Record<string, string | undefined>;

/**
 * Feeds `session` to livecalls, for the room of `ctx`. Call it once per session, after `session.start`.
 * Never throws: a missing setting is logged and the returned bridge is disabled.
 */
export function attachLivecalls(session: voice.AgentSession, ctx: JobContextLike, options: LivecallsOptions = {}): LivecallsBridge {
  const env: Env = process.env;
  const logger: Logger = options.logger ?? { warn: (fields, msg) => console.warn(msg, fields) };
  const sessionKey = sanitizeKey(options.sessionKey) ?? `s${randomBytes(6).toString('hex')}`;
  try {
    return attach(session, ctx, options, env, logger, sessionKey);
  } catch (err) {
    safeWarn(logger, { err: String(err) }, 'livecalls: not attached');
    return disabled(sessionKey);
  }
}

function attach(
  session: voice.AgentSession,
  ctx: JobContextLike,
  o: LivecallsOptions,
  env: Env,
  logger: Logger,
  sk: string,
): LivecallsBridge {
  const url = o.url ?? env.LIVECALLS_URL;
  const apiKey = o.apiKey ?? env.LIVEKIT_API_KEY;
  const apiSecret = o.apiSecret ?? env.LIVEKIT_API_SECRET;
  const roomName = o.roomName ?? ctx.room.name ?? ctx.job?.room?.name;
  const missing = [
    !url && 'LIVECALLS_URL',
    !apiKey && 'LIVEKIT_API_KEY',
    !apiSecret && 'LIVEKIT_API_SECRET',
    !roomName && 'room name',
  ].filter(Boolean);
  if (!url || !apiKey || !apiSecret || !roomName) {
    safeWarn(logger, { missing }, 'livecalls: not attached, settings missing');
    return disabled(sk);
  }

  let roomSid = o.roomSid || ctx.job?.room?.sid || undefined;
  if (!roomSid && ctx.room.getSid) {
    // Resolves once the room is connected; never awaited.
    ctx.room.getSid().then(
      (sid) => (roomSid = sid || undefined),
      () => undefined,
    );
  }

  const sender = new EventSender({
    ...o,
    url,
    roomName,
    authorize: roomSigner(apiKey, apiSecret, roomName),
    workspaceId: o.workspaceId ?? workspaceFromMetadata(ctx.job?.room?.metadata) ?? env.LIVECALLS_WORKSPACE_ID,
    roomSid: () => roomSid,
    logger,
  });
  const closeTimeoutMs = o.closeTimeoutMs ?? 2_000;
  const wanted = o.types ? new Set(o.types) : undefined;
  let events = 0;
  let seq = 0;
  let lastUsage: UsageTotals | undefined;

  const push = (e: Parameters<EventSender['push']>[0] | undefined): void => {
    if (!e || (wanted && !wanted.has(e.type))) return;
    events++;
    sender.push(e);
  };
  /** Every handler: translate and queue, nothing that can throw into the session's emitter. */
  const guard =
    <E>(name: string, fn: (ev: E) => void) =>
    (ev: E): void => {
      try {
        fn(ev);
      } catch (err) {
        safeWarn(logger, { event: name, err: String(err) }, 'livecalls: could not translate an event');
      }
    };

  const T = voice.AgentSessionEventTypes;
  const handlers = {
    [T.ConversationItemAdded]: guard<voice.ConversationItemAddedEvent>('conversation_item_added', (ev) =>
      push(fromConversationItem(sk, ev, Date.now())),
    ),
    [T.AgentStateChanged]: guard<voice.AgentStateChangedEvent>('agent_state_changed', (ev) =>
      push(fromAgentState(sk, ++seq, ev, Date.now())),
    ),
    [T.UserStateChanged]: guard<voice.UserStateChangedEvent>('user_state_changed', (ev) => push(fromUserState(sk, ++seq, ev, Date.now()))),
    [T.AgentFalseInterruption]: guard<voice.AgentFalseInterruptionEvent>('agent_false_interruption', (ev) =>
      push(fromFalseInterruption(sk, ++seq, ev, Date.now())),
    ),
    [T.FunctionToolsExecuted]: guard<voice.FunctionToolsExecutedEvent>('function_tools_executed', (ev) =>
      push(fromToolsExecuted(sk, ++seq, ev, Date.now())),
    ),
    [T.SessionUsageUpdated]: guard<voice.SessionUsageUpdatedEvent>('session_usage_updated', (ev) => {
      const totals = usageTotals(ev.usage);
      if (sameUsage(lastUsage, totals)) return;
      lastUsage = totals;
      push(fromUsage(sk, ++seq, totals, Date.now()));
    }),
    [T.Error]: guard<voice.ErrorEvent>('error', (ev) => push(fromError(sk, ++seq, ev, Date.now()))),
    [T.Close]: guard<voice.CloseEvent>('close', (ev) => {
      push(fromClose(sk, ev, Date.now()));
      detach();
      void sender.close(closeTimeoutMs).catch(() => undefined);
    }),
  } as const;

  let attached = true;
  function detach(): void {
    if (!attached) return;
    attached = false;
    for (const [name, fn] of Object.entries(handlers)) session.off(name as keyof typeof handlers, fn as never);
  }
  for (const [name, fn] of Object.entries(handlers)) session.on(name as keyof typeof handlers, fn as never);

  try {
    // The job may end the process soon after the session closes: give the last events their chance.
    ctx.addShutdownCallback?.(() => sender.close(closeTimeoutMs));
  } catch {
    // a context that takes no callbacks: the close event still flushes
  }

  return {
    enabled: true,
    sessionKey: sk,
    stats: () => ({ events, ...sender.stats() }),
    flush: (timeoutMs = closeTimeoutMs) => sender.flush(timeoutMs),
    detach,
  };
}

function workspaceFromMetadata(metadata: string | undefined): string | undefined {
  if (!metadata) return undefined;
  try {
    const m: unknown = JSON.parse(metadata);
    if (m && typeof m === 'object' && 'workspaceId' in m && typeof m.workspaceId === 'string' && m.workspaceId) return m.workspaceId;
  } catch {
    // room metadata that is not JSON names no workspace
  }
  return undefined;
}

function sanitizeKey(k: string | undefined): string | undefined {
  const s = k?.replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 40);
  return s ? s : undefined;
}

function disabled(sessionKey: string): LivecallsBridge {
  return {
    enabled: false,
    sessionKey,
    stats: () => ({ events: 0, queued: 0, inFlight: 0, sent: 0, dropped: 0, retried: 0, failed: 0, rejected: 0, merged: 0, requests: 0 }),
    flush: () => Promise.resolve(),
    detach: () => undefined,
  };
}

function safeWarn(logger: Logger, fields: Record<string, unknown>, msg: string): void {
  try {
    logger.warn(fields, msg);
  } catch {
    // nothing to do
  }
}
