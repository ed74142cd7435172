/**
 * Call simulator: drives scripted calls through the real ingest path over HTTP, exactly as production
 * traffic arrives — LiveKit webhooks (real @livekit/protocol messages, signed like LiveKit) for the room and
 * its participants, and agent-worker events (transcript turns, caller details, transfer requests).
 */
import { randomBytes } from 'node:crypto';
import { ParticipantInfo, ParticipantInfo_Kind, ParticipantInfo_State, Room, WebhookEvent } from '@livekit/protocol';
import type { AgentEvent } from '../ingest/agent.ts';
import { signBody, signWebhook } from './sign.ts';
import { pickScenario } from './scripts.ts';
import type { StandInState } from './livekit/state.ts';

export interface Progress {
  started: number;
  active: number;
  /** Calls that ran to their end: hung up, or ended, taken over or transferred through the API. */
  ended: number;
  /** Calls that did not reach livecalls whole (a request of theirs failed). */
  failed: number;
  /** Webhooks and agent events the server accepted. */
  events: number;
  /** Requests that failed (network error, non-2xx, or a webhook the server ignored). */
  errors: number;
}

export interface Stats extends Progress {
  calls: number;
  firstError: string | undefined;
  /**
   * Why the run stopped early: the server refused the simulator itself (its LiveKit key pair, the
   * workspace), so every further call would fail the same way.
   */
  fatal: string | undefined;
  elapsedMs: number;
}

export interface SimulatedCall {
  roomName: string;
  type: 'phone' | 'web';
  scenario: string;
  agentName: string;
  customerName: string;
  /** E.164, phone calls only */
  customerPhone: string | undefined;
  turns: number;
}

export interface SimulationOptions {
  baseUrl: string;
  workspaceId: string;
  /** Authenticate agent events with this key instead of a LiveKit signature. */
  apiKey?: string;
  livekitKey: string;
  livekitSecret: string;
  calls: number;
  concurrency: number;
  /** Mean pause between turns; each pause varies ±40% so concurrent calls drift apart like real ones. */
  turnDelayMs: number;
  /** Pause after the last turn before hanging up. */
  holdMs?: number;
  onProgress?(p: Progress): void;
  /** Called once a call's room has been announced (before its first webhook is sent). */
  onCall?(call: SimulatedCall): void;
  /** Aborting starts no new calls and hangs up the ones in progress. */
  signal?: AbortSignal;
  /**
   * A simulated LiveKit server (src/simulate/livekit) to hold the calls' rooms: webhooks then come from it,
   * and a call whose room is deleted (end-call), whose agent is muted (takeover) or whose caller is
   * transferred away reacts as a real one would. Its webhook sink is set by the simulator.
   */
  livekit?: StandInState;
}

const PHONE_SHARE = 0.6;
const REQUEST_TIMEOUT_MS = 10_000;
const TRUNK_NUMBER = '+18005550100';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Spreads phone calls evenly (call 1, 3, 4, 6, ...), so even a two-call run has both kinds. */
export function isPhoneCall(index: number): boolean {
  return Math.floor((index + 1) * PHONE_SHARE) > Math.floor(index * PHONE_SHARE);
}

/** Resolves after `ms`, or as soon as the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch says only "fetch failed"; the reason (refused, reset, timeout) is in its cause.
  const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** An HTTP refusal from livecalls, with its status. */
class Refused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Refusals that every further request of the run would get too: stop, and say why. */
function fatalReason(err: unknown, workspaceId: string): string | undefined {
  if (!(err instanceof Refused)) return undefined;
  if (err.status === 503 && err.message.includes('webhooks_not_configured')) {
    return 'the server has no LiveKit key pair to check webhooks with: start it with the same LIVEKIT_API_KEY/LIVEKIT_API_SECRET as the simulator, or leave both unset on the server and the simulator (both then use the simulation key pair derived from the server secret in the data directory)';
  }
  if (err.status === 401) {
    return `the server refused the simulator's LiveKit signature (${err.message}): the simulator and the server must use the same LIVEKIT_API_KEY/LIVEKIT_API_SECRET, or, with none set, the same data directory (LIVECALLS_DATA_DIR) or LIVECALLS_SECRET`;
  }
  if (err.status === 0) return `workspace ${workspaceId} is not on this server (${err.message})`;
  return undefined;
}

interface RoomDriver {
  /** The room, the agent and the caller are there (their webhooks delivered). */
  start(): Promise<void>;
  /** The room was deleted (end-call): the call is over. */
  deleted(): boolean;
  /** A supervisor muted the agent (takeover): it says nothing more. */
  agentMuted(): boolean;
  /** The caller left the room (a transfer): the call is over for the agent. */
  callerGone(): boolean;
  /** Everyone leaves and the room finishes, unless that already happened. */
  hangUp(): Promise<void>;
}

export async function runSimulation(opts: SimulationOptions): Promise<Stats> {
  if (!Number.isInteger(opts.calls) || opts.calls < 0) throw new RangeError(`calls must be a whole number >= 0, got ${opts.calls}`);
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
    throw new RangeError(`concurrency must be >= 1, got ${opts.concurrency}`);
  const base = opts.baseUrl.replace(/\/+$/, '');
  // Stops on the caller's signal, or when the server refuses the simulator itself.
  const stop = new AbortController();
  const signal = stop.signal;
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const began = Date.now();
  const p: Progress = { started: 0, active: 0, ended: 0, failed: 0, events: 0, errors: 0 };
  let firstError: string | undefined;
  let fatal: string | undefined;
  const report = (): void => opts.onProgress?.({ ...p });

  async function post(path: string, body: string, headers: Record<string, string>): Promise<string> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method: 'POST', body, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      throw new Error(`POST ${path}: ${describe(err)}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new Refused(`POST ${path}: HTTP ${res.status} ${text.slice(0, 300)}`, res.status);
    return text;
  }

  /** Posts one signed webhook body as LiveKit does. */
  async function deliver(body: string, authorization: string, event: string): Promise<void> {
    const text = await post('/webhooks/livekit', body, { 'Content-Type': 'application/webhook+json', Authorization: authorization });
    // A 200 that ignored the event is still a failed simulation: usually the workspace does not exist there.
    const outcome = JSON.parse(text) as { status?: string; reason?: string };
    if (outcome.status === 'ignored') throw new Refused(`webhook ${event} was ignored (${outcome.reason ?? 'no reason'})`, 0);
    p.events += 1;
  }

  async function webhook(event: WebhookEvent): Promise<void> {
    const { body, authorization } = await signWebhook(event, opts.livekitKey, opts.livekitSecret);
    await deliver(body, authorization, event.event);
  }

  async function agentEvents(roomName: string, roomSid: string, events: AgentEvent[]): Promise<void> {
    const body = JSON.stringify({ roomSid, events });
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'x-workspace-id': opts.workspaceId };
    if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
    else headers.Authorization = await signBody(body, opts.livekitKey, opts.livekitSecret, '5m', roomName);
    await post(`/v2/api/active-calls/${encodeURIComponent(roomName)}/events`, body, headers);
    p.events += events.length;
  }

  /** Rooms some request of which failed: their calls count as failed. */
  const failedRooms = new Set<string>();
  function fail(err: unknown, roomName?: string): void {
    if (roomName) failedRooms.add(roomName);
    p.errors += 1;
    firstError ??= describe(err);
    const reason = fatalReason(err, opts.workspaceId);
    if (reason && !fatal) {
      fatal = reason;
      stop.abort();
    }
    report();
  }

  // The simulated LiveKit server's webhooks go to livecalls, counted like the simulator's own; a refusal
  // is recorded here, so its delivery queue keeps going.
  const lkServer = opts.livekit;
  if (lkServer) {
    lkServer.sink = async (body, authorization) => {
      const parsed = JSON.parse(body) as { event?: string; room?: { name?: string } };
      await deliver(body, authorization, parsed.event ?? 'webhook').catch((err: unknown) => fail(err, parsed.room?.name));
    };
  }

  function directRoom(room: Room, agent: ParticipantInfo, caller: ParticipantInfo): RoomDriver {
    const lk = (event: string, participant?: ParticipantInfo): WebhookEvent =>
      new WebhookEvent({ event, id: `EV_${hex(6)}`, createdAt: BigInt(Math.floor(Date.now() / 1000)), room, participant });
    const leave = (who: ParticipantInfo): ParticipantInfo => {
      const gone = who.clone();
      gone.state = ParticipantInfo_State.DISCONNECTED;
      return gone;
    };
    return {
      async start() {
        await webhook(lk('room_started'));
        await webhook(lk('participant_joined', agent));
        await webhook(lk('participant_joined', caller));
      },
      deleted: () => false,
      agentMuted: () => false,
      callerGone: () => false,
      async hangUp() {
        await webhook(lk('participant_left', leave(caller)));
        await webhook(lk('participant_left', leave(agent)));
        await webhook(lk('room_finished'));
      },
    };
  }

  function simulatedRoom(lkState: StandInState, room: Room, agent: ParticipantInfo, caller: ParticipantInfo): RoomDriver {
    const name = room.name;
    const agentTrack = `TR_${hex(6)}`;
    let sid = room.sid;
    return {
      async start() {
        sid = lkState.addRoom({ name, sid: room.sid, metadata: room.metadata }).sid;
        const spec = (who: ParticipantInfo, kind: 'agent' | 'sip' | 'standard', tracks: string[]) => ({
          identity: who.identity,
          name: who.name,
          kind,
          tracks,
          attributes: { ...who.attributes },
        });
        lkState.addParticipant(name, spec(agent, 'agent', [agentTrack]));
        lkState.addParticipant(name, spec(caller, caller.kind === ParticipantInfo_Kind.SIP ? 'sip' : 'standard', [`TR_${hex(6)}`]));
        await lkState.webhooksDelivered();
      },
      deleted: () => lkState.room(name)?.room.sid !== sid,
      agentMuted: () => lkState.participant(name, agent.identity)?.tracks.find((t) => t.sid === agentTrack)?.muted === true,
      callerGone: () => !lkState.participant(name, caller.identity),
      async hangUp() {
        if (lkState.room(name)?.room.sid === sid) lkState.deleteRoom(name);
        await lkState.webhooksDelivered();
      },
    };
  }

  async function simulateCall(index: number): Promise<void> {
    const { script, customerName, customerPhone } = pickScenario();
    const phone = isPhoneCall(index);
    const roomName = `call-${hex(3)}`;
    const createdMs = Date.now();
    const room = new Room({
      sid: `RM_${hex(6)}`,
      name: roomName,
      creationTime: BigInt(Math.floor(createdMs / 1000)),
      creationTimeMs: BigInt(createdMs),
      emptyTimeout: 300,
      departureTimeout: 20,
      metadata: JSON.stringify({ workspaceId: opts.workspaceId, agentName: script.agentName, customerName }),
    });
    const joined = (): { joinedAt: bigint; joinedAtMs: bigint } => {
      const now = Date.now();
      return { joinedAt: BigInt(Math.floor(now / 1000)), joinedAtMs: BigInt(now) };
    };
    const agent = new ParticipantInfo({
      sid: `PA_${hex(6)}`,
      identity: `agent-AJ_${hex(6)}`,
      name: script.agentName,
      kind: ParticipantInfo_Kind.AGENT,
      state: ParticipantInfo_State.ACTIVE,
      attributes: { 'lk.agent.name': script.agentName, 'lk.agent.state': 'listening' },
      ...joined(),
    });
    const caller = phone
      ? new ParticipantInfo({
          sid: `PA_${hex(6)}`,
          identity: `sip_${customerPhone}`,
          name: `Phone ${customerPhone}`,
          kind: ParticipantInfo_Kind.SIP,
          state: ParticipantInfo_State.ACTIVE,
          attributes: {
            'sip.phoneNumber': customerPhone,
            'sip.trunkPhoneNumber': TRUNK_NUMBER,
            'sip.callID': `SCL_${hex(6)}`,
            'sip.trunkID': `ST_${hex(6)}`,
            'sip.ruleID': `SDR_${hex(6)}`,
            'sip.callStatus': 'active',
          },
          ...joined(),
        })
      : new ParticipantInfo({
          sid: `PA_${hex(6)}`,
          identity: `web-${hex(4)}`,
          name: customerName,
          kind: ParticipantInfo_Kind.STANDARD,
          state: ParticipantInfo_State.ACTIVE,
          ...joined(),
        });
    const driver = lkServer ? simulatedRoom(lkServer, room, agent, caller) : directRoom(room, agent, caller);
    // Strictly increasing, so turns sent within one millisecond keep their order.
    let lastAt = 0;
    const at = (): number => (lastAt = Math.max(Date.now(), lastAt + 1));
    const id = (kind: string, i: number): string => `${kind}-${String(i).padStart(3, '0')}-${hex(4)}`;

    p.started += 1;
    p.active += 1;
    opts.onCall?.({
      roomName,
      type: phone ? 'phone' : 'web',
      scenario: script.id,
      agentName: script.agentName,
      customerName,
      customerPhone: phone ? customerPhone : undefined,
      turns: script.turns.length,
    });
    report();
    try {
      await driver.start();
      if (failedRooms.has(roomName)) throw new Error('the call did not start');
      let toldCustomer = false;
      for (const [i, turn] of script.turns.entries()) {
        if (signal.aborted) break;
        if (i > 0) await pause(Math.round(opts.turnDelayMs * (0.6 + 0.8 * Math.random())), signal);
        if (signal.aborted || driver.deleted() || driver.callerGone()) break;
        // Taken over: a person speaks for the agent now; the scripted agent stays silent.
        if (turn.role === 'agent' && driver.agentMuted()) continue;
        const events: AgentEvent[] = [{ id: id('t', i), createdAt: at(), type: 'transcript', role: turn.role, content: turn.text }];
        // The agent learns who is calling from the first answer (a phone call also brings the number).
        if (turn.role === 'customer' && !toldCustomer) {
          toldCustomer = true;
          const info: AgentEvent = { id: id('info', i), createdAt: at(), type: 'customer_info', name: customerName };
          events.push(phone ? { ...info, phone: customerPhone } : info);
        }
        if (turn.transfer) events.push({ id: id('xfer', i), createdAt: at(), type: 'transfer_requested', reason: turn.transfer });
        await agentEvents(roomName, room.sid, events);
        report();
      }
      if (!driver.deleted()) await pause(opts.holdMs ?? 0, signal);
    } catch (err) {
      if (!failedRooms.has(roomName)) fail(err, roomName);
    }
    // Hang up even after a failure or an abort, so no call is left active on the server.
    try {
      await driver.hangUp();
    } catch (err) {
      fail(err, roomName);
    }
    p.active -= 1;
    if (failedRooms.delete(roomName)) p.failed += 1;
    else p.ended += 1;
    report();
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.calls && !signal.aborted) await simulateCall(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.calls) }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { ...p, calls: opts.calls, firstError, fatal, elapsedMs: Date.now() - began };
}
