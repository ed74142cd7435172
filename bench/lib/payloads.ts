/**
 * What the load generators send: agent transcript batches and signed LiveKit webhooks, every event with a
 * fresh id (a repeated id is a cheap duplicate, not an ingest). Transcript text comes from the simulator's
 * scripts (about 10 words a turn) with a one-token serial number appended, so no two turns are the same text:
 * real conversations do not repeat, and identical texts would flatter anything keyed by content.
 */
import { randomBytes } from 'node:crypto';
import { ParticipantInfo, ParticipantInfo_Kind, Room, WebhookEvent } from '@livekit/protocol';
import { SCRIPTS, fakePhone } from '../../src/simulate/scripts.ts';
import { signWebhook } from '../../src/simulate/sign.ts';
import { LK_KEY, LK_SECRET } from './backends.ts';

const TURNS = SCRIPTS.flatMap((s) => s.turns);

/** A run-unique prefix, so ids of two runs against one store never collide. */
export function runId(): string {
  return randomBytes(4).toString('hex');
}

export function turnText(n: number): { role: 'agent' | 'customer'; content: string } {
  const t = TURNS[n % TURNS.length] as (typeof TURNS)[number];
  return { role: t.role, content: `${t.text} #${n}` };
}

/** `{"events": [...]}` with `size` transcript turns, ids `${prefix}-${seq}-${i}`. */
export function transcriptBatch(prefix: string, seq: number, size: number, at = Date.now()): string {
  const events = Array.from({ length: size }, (_, i) => ({
    id: `${prefix}-${seq}-${i}`,
    createdAt: at + i,
    type: 'transcript',
    ...turnText(seq * size + i),
  }));
  return JSON.stringify({ events });
}

/**
 * Agent events round-robin over `rooms` rooms of one workspace: path and body for the n-th request.
 * Rooms are named `${roomPrefix}-${i}`.
 */
export function agentRequests(rooms: number, batch: number, roomPrefix = 'bench') {
  const prefix = runId();
  let seq = 0;
  return (): { path: string; body: string } => {
    const n = seq++;
    return { path: `/v2/api/active-calls/${roomPrefix}-${n % rooms}/events`, body: transcriptBatch(prefix, n, batch) };
  };
}

export interface SignedWebhook {
  body: string;
  authorization: string;
}

/** LiveKit's webhooks for one call, in order: room started, agent and phone caller joined, both left, room finished. */
function callWebhooks(workspaceId: string, roomName: string, sid: string): WebhookEvent[] {
  const at = Date.now();
  const room = new Room({
    sid,
    name: roomName,
    creationTime: BigInt(Math.floor(at / 1000)),
    creationTimeMs: BigInt(at),
    metadata: JSON.stringify({ workspaceId, agentName: 'Bench Agent', customerName: 'Bench Caller' }),
    emptyTimeout: 300,
  });
  const agent = participant(`agent-${sid}`, ParticipantInfo_Kind.AGENT, at, {});
  const caller = participant(`sip-${sid}`, ParticipantInfo_Kind.SIP, at, { 'sip.phoneNumber': fakePhone() });
  const steps: [string, ParticipantInfo | undefined][] = [
    ['room_started', undefined],
    ['participant_joined', agent],
    ['participant_joined', caller],
    ['participant_left', caller],
    ['participant_left', agent],
    ['room_finished', undefined],
  ];
  return steps.map(
    ([event, p], i) => new WebhookEvent({ event, id: `EV_${sid}_${i}`, createdAt: BigInt(Math.floor(at / 1000)), room, participant: p }),
  );
}

/** Calls in flight at once in `signedWebhooks`: a busy LiveKit server has many rooms going at the same time. */
const ROOMS_IN_FLIGHT = 256;

/**
 * `count` signed webhooks of whole calls, ROOMS_IN_FLIGHT calls at a time with their events interleaved
 * (every room starts, then every agent joins, ...), as LiveKit sends them for many concurrent calls; sending
 * one room's six events back to back would measure that room's queue, not the server. Signing is done up
 * front so the load generator only replays bytes.
 */
export async function signedWebhooks(workspaceId: string, count: number): Promise<SignedWebhook[]> {
  const prefix = runId();
  const out: SignedWebhook[] = [];
  for (let first = 0; out.length < count; first += ROOMS_IN_FLIGHT) {
    const calls = Array.from({ length: ROOMS_IN_FLIGHT }, (_, i) =>
      callWebhooks(workspaceId, `lk-${prefix}-${first + i}`, `RM_${prefix}${first + i}`),
    );
    for (let step = 0; step < (calls[0]?.length ?? 0); step++) {
      for (const call of calls) {
        if (out.length >= count) return out;
        out.push(await signWebhook(call[step] as WebhookEvent, LK_KEY, LK_SECRET));
      }
    }
  }
  return out;
}

/** For each room: the signed webhooks that make it a live call (room started, agent and caller joined). */
export async function signedWebhookSet(rooms: readonly { workspaceId: string; roomName: string }[]): Promise<SignedWebhook[][]> {
  const prefix = runId();
  const out: SignedWebhook[][] = [];
  for (const [i, r] of rooms.entries()) {
    const hooks = callWebhooks(r.workspaceId, r.roomName, `RM_${prefix}${i}`).slice(0, 3);
    out.push(await Promise.all(hooks.map((wh) => signWebhook(wh, LK_KEY, LK_SECRET))));
  }
  return out;
}

function participant(identity: string, kind: ParticipantInfo_Kind, at: number, attributes: Record<string, string>): ParticipantInfo {
  return new ParticipantInfo({
    sid: `PA_${identity}_${randomBytes(3).toString('hex')}`,
    identity,
    name: identity,
    kind,
    joinedAt: BigInt(Math.floor(at / 1000)),
    joinedAtMs: BigInt(at),
    attributes,
  });
}
