/**
 * The live state of one call, and how events fold into it.
 *
 * Why it is shaped like this: LiveKit delivers webhooks at least once and, across sources, in no
 * guaranteed order (an agent's transcript may beat `room_started`; a retry may repeat an event). So every
 * field is a merge that does not depend on arrival order:
 *  - participants are kept per LiveKit participant sid; a sid that left stays left (a rejoin gets a new sid);
 *  - transcript turns are a set keyed by event id, kept sorted by (time, id);
 *  - flags only ever turn on (transfer requested, phone call, ended);
 *  - last-writer-wins fields compare (time, id), never arrival order (human takeover and the transfer
 *    outcome are such fields: a mute and a later unmute give the unmuted state whichever arrives first);
 *  - the end time is the earliest end event seen.
 * Folding any permutation of the same events therefore gives the same call (a property test checks this).
 * A finished call stays finished: later events still enrich it (a late final turn) but never reopen it.
 */
import { fire, type CallAlerts } from './alerts.ts';
import type { CallEvent, EndReason, ParticipantKind, ParticipantRef, RoomRef, Role, TransferOutcome } from './events.ts';
import { applyTelemetry, emptyTelemetry, type Telemetry } from './telemetry.ts';

export type CallType = 'phone' | 'web';
export type Sentiment = 'positive' | 'neutral' | 'negative';

export interface ParticipantSession {
  sid: string;
  identity: string;
  name: string;
  kind: ParticipantKind;
  joinedAt: number;
  left: boolean;
  metadata: string;
  attributes: Readonly<Record<string, string>>;
}

export interface Turn {
  id: string;
  role: Role;
  content: string;
  at: number;
}

export interface Stamped<T> {
  value: T;
  at: number;
  id: string;
}

export interface Call {
  id: string;
  workspaceId: string;
  roomName: string;
  roomSid: string;
  /**
   * The room sid the agent worker said the call is in, unproven (see RoomSidClaim): it routes later events
   * of that room here and keeps another room's webhooks from adopting the call; never proof of ownership.
   * Optional: calls stored before it existed lack it.
   */
  claimedRoomSid?: string;
  roomCreatedAt: number | null;
  /** Earliest event time seen; the start time until the room's creation time is known. */
  firstEventAt: number;
  /** Latest event time seen (source clocks). Optional: calls stored before it existed lack it. */
  lastEventAt?: number;
  /** Server time of the last event applied; drives stale expiry. */
  lastActivityAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  agentName: Stamped<string> | null;
  roomCustomerName: Stamped<string> | null;
  customerName: Stamped<string> | null;
  customerPhone: Stamped<string> | null;
  participants: ParticipantSession[];
  /** The most recent turns, oldest first, at most `MAX_LIVE_TURNS`; the full transcript is archived. */
  transcript: Turn[];
  turnCount: number;
  /** What the turns kept count against MAX_TRANSCRIPT_CHARS (see `turnChars`). Optional: calls stored before it existed lack it. */
  transcriptChars?: number;
  /** Turns not kept because the transcript was full. Optional, like `transcriptChars`. */
  turnsDropped?: number;
  /** Set by the first transfer request; the reason is the latest one's. */
  transfer: Stamped<string> | null;
  sentiment: Sentiment;
  sentimentScore: number;
  /** The customer's per-turn scores, oldest first (bounded). Optional: calls stored before it existed lack it. */
  sentimentTrend?: number[];
  /** Conversation signals that lowered the sentiment (e.g. `agent_cannot_help`). Optional for the same reason. */
  sentimentSignals?: string[];
  /**
   * True while a human has taken over (the agent's tracks muted through the API). Optional: calls stored
   * before call control existed lack it.
   */
  humanTakeover?: Stamped<boolean> | null;
  /** The latest transfer attempt's outcome as LiveKit answered it. Optional for the same reason. */
  transferResult?: Stamped<TransferResult> | null;
  /** The agent's live telemetry (domain/telemetry.ts). Optional: absent until the agent sends any. */
  telemetry?: Telemetry;
  /** Alerts fired on the call (domain/alerts.ts). Optional: absent until one fires. */
  alerts?: CallAlerts;
  /**
   * Topics and summary of the conversation, set when the call ends (and again if a late turn arrives), so the
   * call history lists them without analysing every call it reads. Absent on calls ended before it existed.
   */
  outcome?: CallOutcome;
}

export interface CallOutcome {
  topics: string[];
  summary: string;
}

export interface TransferResult {
  to: string;
  outcome: TransferOutcome;
  reason: string | null;
}

/** Live turns kept on the call itself; enough for sentiment, insights and the wallboard. */
export const MAX_LIVE_TURNS = 50;

/**
 * Characters of transcript a call keeps: about 20 hours of speech, far beyond any real call. Past it, turns are
 * acknowledged and not kept (counted in `turnsDropped`): one tenant's endless turns must not grow a call that
 * every read of it (details, history, export, the call.ended webhook) then carries. Each turn counts its text,
 * its id and TURN_OVERHEAD_CHARS for the rest of what it stores, so a million one-letter turns cannot pass.
 */
export const MAX_TRANSCRIPT_CHARS = 1_000_000;
export const TURN_OVERHEAD_CHARS = 64;

/** What a turn counts against MAX_TRANSCRIPT_CHARS. */
export function turnChars(turn: Pick<Turn, 'id' | 'content'>): number {
  return turn.content.length + turn.id.length + TURN_OVERHEAD_CHARS;
}

/**
 * `now`: the server's clock. Activity is server time: a source's clock running ahead (or a time sent wrong) must
 * not keep the call from ever looking idle.
 */
export function newCall(id: string, workspaceId: string, roomName: string, firstEventAt: number, now = firstEventAt): Call {
  return {
    id,
    workspaceId,
    roomName,
    roomSid: '',
    roomCreatedAt: null,
    firstEventAt,
    lastEventAt: firstEventAt,
    lastActivityAt: now,
    endedAt: null,
    endReason: null,
    agentName: null,
    roomCustomerName: null,
    customerName: null,
    customerPhone: null,
    participants: [],
    transcript: [],
    turnCount: 0,
    transfer: null,
    sentiment: 'neutral',
    sentimentScore: 0,
    humanTakeover: null,
    transferResult: null,
  };
}

/** The room sid that identifies the call's room for routing: LiveKit's, else the worker's claim ('' if none). */
export function routingSidOfCall(call: Call): string {
  return call.roomSid || call.claimedRoomSid || '';
}

export function isActive(call: Call): boolean {
  return call.endedAt === null;
}

/**
 * `owned` once LiveKit bound the room to the call's workspace (a verified webhook or ListRooms named it, and
 * the call took the room's sid from it); `unverified` while the call is known only from agent events. Room
 * sids only ever come from LiveKit, so the sid is the proof. See calls/ownership.ts.
 */
export type Ownership = 'owned' | 'unverified';

export function ownershipOf(call: Call): Ownership {
  return call.roomSid !== '' ? 'owned' : 'unverified';
}

/** When the call started: the LiveKit room's creation time when known, else the first event seen. */
export function startedAt(call: Call): number {
  return call.roomCreatedAt ?? call.firstEventAt;
}

export function isHumanTakeover(call: Call): boolean {
  return call.humanTakeover?.value ?? false;
}

export function callType(call: Call): CallType {
  return call.participants.some((p) => p.kind === 'sip') ? 'phone' : 'web';
}

/** Later (at, id) wins; ties on both keep the current value, so merging is order-independent. */
function lww<T>(current: Stamped<T> | null, value: T, at: number, id: string): Stamped<T> {
  if (!current || at > current.at || (at === current.at && id > current.id)) return { value, at, id };
  return current;
}

function mergeRoom(call: Call, room: RoomRef | null, event: CallEvent): void {
  if (!room) return;
  if (room.sid && !call.roomSid) call.roomSid = room.sid;
  if (room.createdAt !== null) call.roomCreatedAt = room.createdAt;
  if (room.agentName) call.agentName = lww(call.agentName, room.agentName, event.at, event.id);
  if (room.customerName) call.roomCustomerName = lww(call.roomCustomerName, room.customerName, event.at, event.id);
}

/**
 * Whichever of a participant's join and leave arrives first, the result is the same: the earliest join time
 * (a leave without one stands in with its own time until the join tells), the join's view where both carry
 * a value (a leave's `sip.callStatus` is `hangup`, the join's is what the call was), the leave's only where
 * the join said nothing, and the list in (join time, sid) order, so `customerPhone` and the participants'
 * order never depend on delivery order.
 */
function upsertParticipant(call: Call, p: ParticipantRef, left: boolean): void {
  const existing = call.participants.find((s) => s.sid === p.sid);
  if (existing) {
    existing.left = existing.left || left;
    existing.joinedAt = Math.min(existing.joinedAt, p.joinedAt || existing.joinedAt);
    if (left) {
      if (!existing.metadata && p.metadata) existing.metadata = p.metadata;
      if (!existing.name && p.name) existing.name = p.name;
      existing.attributes = { ...p.attributes, ...existing.attributes };
    } else {
      if (p.metadata) existing.metadata = p.metadata;
      if (p.name) existing.name = p.name;
      existing.attributes = { ...existing.attributes, ...p.attributes };
    }
  } else {
    call.participants.push({ ...p, left });
  }
  call.participants.sort((a, b) => a.joinedAt - b.joinedAt || (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0));
}

function addTurn(call: Call, turn: Turn): void {
  if (call.transcript.some((t) => t.id === turn.id)) return;
  const chars = (call.transcriptChars ?? 0) + turnChars(turn);
  if (chars > MAX_TRANSCRIPT_CHARS) {
    call.turnsDropped = (call.turnsDropped ?? 0) + 1;
    return;
  }
  call.transcriptChars = chars;
  call.turnCount += 1;
  const last = call.transcript.at(-1);
  call.transcript.push(turn);
  if (last && compareTurns(last, turn) > 0) call.transcript.sort(compareTurns);
  if (call.transcript.length > MAX_LIVE_TURNS) call.transcript.splice(0, call.transcript.length - MAX_LIVE_TURNS);
}

export function compareTurns(a: Turn, b: Turn): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** LiveKit's webhook times are whole seconds: a `room_finished` this close before an API end may follow from it. */
const WEBHOOK_TIME_GRAIN_MS = 1_000;

type End = { at: number; reason: EndReason };

/**
 * Which of two ends of a call stands, whatever order they came in. The earliest, except:
 *  - `superseded` is livecalls' inference (another room of the name began, so this room's `room_finished`
 *    was lost): any other end, LiveKit's above all, replaces it whatever its time, and it never replaces one;
 *    between two, the later stands, as a superseded call ends at its last event (see applyEvent);
 *  - an end-call through the API deletes the room, and LiveKit's `room_finished` for it follows, stamped to
 *    the whole second: a `room_finished` less than a second before the API's end, or after it, is that
 *    consequence, and the call stays `ended_by_api`.
 * Equal times are decided by the reason's name, so the result never depends on arrival order.
 */
function standingEnd(a: End, b: End): End {
  const inferred = (e: End) => e.reason === 'superseded';
  if (inferred(a) !== inferred(b)) return inferred(a) ? b : a;
  if (inferred(a)) return a.at >= b.at ? a : b;
  const api = a.reason === 'ended_by_api' ? a : b.reason === 'ended_by_api' ? b : undefined;
  const lk = a.reason === 'room_finished' ? a : b.reason === 'room_finished' ? b : undefined;
  if (api && lk) return lk.at >= api.at - WEBHOOK_TIME_GRAIN_MS ? api : lk;
  if (a.at !== b.at) return a.at < b.at ? a : b;
  return a.reason <= b.reason ? a : b;
}

function end(call: Call, at: number, reason: EndReason): void {
  const next =
    call.endedAt === null || call.endReason === null
      ? { at, reason }
      : standingEnd({ at: call.endedAt, reason: call.endReason }, { at, reason });
  call.endedAt = next.at;
  call.endReason = next.reason;
}

/** When a call of a room whose `room_finished` was lost ended, as far as livecalls knows: its last event. */
export function lastEventOf(call: Call): number {
  return call.lastEventAt ?? call.firstEventAt;
}

/**
 * A copy of the call that applyEvent may change: what it changes in place (the two arrays, participant
 * sessions) is copied; turns and stamped values are only ever replaced, never changed, so they are shared with
 * the input. A deep clone of every call per event (structuredClone, with its live turns) was a large share of
 * the cost of ingesting an event.
 */
function copyForUpdate(call: Call): Call {
  return { ...call, participants: call.participants.map((p) => ({ ...p })), transcript: [...call.transcript] };
}

/**
 * Fold one event into a call. Returns a new object; the input is not modified. `now` is the server's
 * clock (activity tracking), `event.at` the source's (ordering). Duplicate ids are the caller's concern
 * (the store drops them before folding), though turns are keyed by id as a second line of defence.
 */
export function applyEvent(input: Call, event: CallEvent, now: number): Call {
  const call = copyForUpdate(input);
  const claim = event.roomSidClaim;
  if (claim && !call.roomSid) {
    if (claim.proven) call.roomSid = claim.sid;
    else if (!call.claimedRoomSid) call.claimedRoomSid = claim.sid;
  }
  call.firstEventAt = Math.min(call.firstEventAt, event.at);
  // An alert is livecalls' own observation, not activity: it must not keep a silent call from going stale.
  if (event.type !== 'call_ended' && event.type !== 'alert_fired') call.lastEventAt = Math.max(lastEventOf(call), event.at);
  if (event.type !== 'alert_fired') call.lastActivityAt = Math.max(call.lastActivityAt, now);
  switch (event.type) {
    case 'room_started':
      mergeRoom(call, event.room, event);
      break;
    case 'room_finished':
      mergeRoom(call, event.room, event);
      end(call, event.at, 'room_finished');
      break;
    case 'participant_joined':
      mergeRoom(call, event.room, event);
      upsertParticipant(call, event.participant, false);
      break;
    case 'participant_left':
    case 'participant_connection_aborted':
      mergeRoom(call, event.room, event);
      upsertParticipant(call, event.participant, true);
      break;
    case 'transcript':
      addTurn(call, { id: event.id, role: event.role, content: event.content, at: event.at });
      if (event.interrupted || event.metrics) call.telemetry = applyTelemetry(call.telemetry ?? emptyTelemetry(), event);
      break;
    case 'transfer_requested':
      call.transfer = lww(call.transfer, event.reason, event.at, event.id);
      break;
    case 'customer_info':
      if (event.name) call.customerName = lww(call.customerName, event.name, event.at, event.id);
      if (event.phone) call.customerPhone = lww(call.customerPhone, event.phone, event.at, event.id);
      break;
    case 'call_ended':
      end(call, event.at, event.reason);
      break;
    case 'agent_muted':
    case 'agent_unmuted':
      call.humanTakeover = lww(call.humanTakeover ?? null, event.type === 'agent_muted', event.at, event.id);
      break;
    case 'transfer_result':
      call.transferResult = lww(
        call.transferResult ?? null,
        { to: event.to, outcome: event.outcome, reason: event.reason },
        event.at,
        event.id,
      );
      break;
    case 'agent_state':
    case 'customer_state':
    case 'false_interruption':
    case 'tools_executed':
    case 'usage':
    case 'agent_error':
    case 'session_closed':
      call.telemetry = applyTelemetry(call.telemetry ?? emptyTelemetry(), event);
      break;
    case 'alert_fired':
      call.alerts = fire(
        call.id,
        call.alerts,
        { ruleId: event.ruleId, kind: event.kind, message: event.message, episode: event.episode },
        event.at,
      );
      break;
  }
  if (call.endReason === 'superseded' && call.endedAt !== null) call.endedAt = Math.max(call.endedAt, lastEventOf(call));
  return call;
}
