/**
 * Supervisor actions on a live call through LiveKit: human takeover (mute the agent) and back, listen-in
 * tokens, transfer of the phone caller. Each action is scoped to the caller's workspace (another
 * workspace's room is a 404), acts on LiveKit first and records here only what LiveKit did, is logged with
 * who did it, and is safe to repeat. End-call lives in the calls service, where it always was.
 */
import { randomBytes } from 'node:crypto';
import { ParticipantInfo_Kind } from '@livekit/protocol';
import type { Logger } from 'pino';
import { callType, type Call } from '../domain/call.ts';
import { presentParticipants } from '../domain/view.ts';
import { AppError } from '../errors.ts';
import type { CallControl, ListenToken } from '../control/livekit.ts';
import type { CallStore } from '../store/types.ts';
import type { CallService, Clock } from './service.ts';

export interface TransferDone {
  callerIdentity: string;
  /** The same transfer had already been accepted: LiveKit was not asked again. */
  alreadyAccepted: boolean;
}

export interface CallActionsDeps {
  service: CallService;
  calls: CallStore;
  control: CallControl | undefined;
  clock: Clock;
  log: Logger;
  listenTokenTtlMs: number;
}

const AGENT_FIELD = 'body.participantIdentity';

function eventId(kind: string, call: Call, now: number): string {
  // Each action is its own event; last-writer-wins on (time, id) settles mute vs unmute.
  return `api:${kind}:${call.id}:${now}:${randomBytes(4).toString('hex')}`;
}

export class CallActions {
  constructor(private readonly deps: CallActionsDeps) {}

  private control(): CallControl {
    if (!this.deps.control) {
      throw new AppError(
        'call_control_not_configured',
        'call control is not configured: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET',
      );
    }
    return this.deps.control;
  }

  /** The room's active call; 409 when the room's call has ended, 404 when the workspace has none. */
  private async liveCall(workspaceId: string, roomName: string): Promise<Call> {
    const call = await this.deps.calls.getActive(workspaceId, roomName);
    if (call) return call;
    if (await this.deps.calls.latestEnded(workspaceId, roomName)) {
      throw new AppError('conflict', `the call in room "${roomName}" has ended`);
    }
    throw new AppError('not_found', `no active call in room "${roomName}"`);
  }

  /**
   * Mutes (takeover) or unmutes (restore) every track the agent publishes; returns their sids. The agent is
   * checked against LiveKit's own view (kind AGENT), since our participant list may lag its webhooks; an
   * identity we know as a non-agent is refused without asking LiveKit.
   */
  async setAgentMuted(workspaceId: string, roomName: string, identity: string, muted: boolean, principal: string): Promise<string[]> {
    const control = this.control();
    const call = await this.liveCall(workspaceId, roomName);
    const known = call.participants.filter((p) => p.identity === identity);
    if (known.length > 0 && !known.some((p) => p.kind === 'agent')) {
      throw new AppError('invalid_request', `participant "${identity}" is not the call's AI agent`, { field: AGENT_FIELD });
    }
    const participant = await control.getParticipant(roomName, identity);
    if (!participant) throw new AppError('invalid_request', `no participant "${identity}" in the room`, { field: AGENT_FIELD });
    if (participant.kind !== ParticipantInfo_Kind.AGENT) {
      throw new AppError('invalid_request', `participant "${identity}" is not the call's AI agent`, { field: AGENT_FIELD });
    }
    const sids: string[] = [];
    // One track at a time: a failure part-way answers an error, and repeating the request finishes the job.
    for (const track of participant.tracks) sids.push(await control.setTrackMuted(roomName, identity, track.sid, muted));
    const now = this.deps.clock();
    const type = muted ? 'agent_muted' : 'agent_unmuted';
    await this.deps.service.ingest(workspaceId, roomName, [{ type, id: eventId(type, call, now), at: now, identity }], 'api');
    this.deps.log.info(
      { workspaceId, roomName, callId: call.id, principal, identity, tracks: sids },
      muted ? 'human takeover: agent muted' : 'agent restored',
    );
    return sids;
  }

  async listenToken(workspaceId: string, roomName: string, principal: string): Promise<ListenToken> {
    const control = this.control();
    const call = await this.liveCall(workspaceId, roomName);
    const identity = `listener-${principal}-${randomBytes(4).toString('hex')}`;
    const token = await control.listenToken(roomName, identity, this.deps.listenTokenTtlMs);
    this.deps.log.info(
      { workspaceId, roomName, callId: call.id, principal, identity, expiresAt: token.expiresAt },
      'listen-in token issued',
    );
    return token;
  }

  /**
   * Transfers the phone caller to `to`. LiveKit's answer, accepted or refused (with its reason), is
   * recorded on the call; LiveKit unreachable records nothing. The same transfer already accepted answers
   * again without a second REFER.
   */
  async transfer(workspaceId: string, roomName: string, to: string, principal: string): Promise<TransferDone> {
    const control = this.control();
    const call = await this.liveCall(workspaceId, roomName);
    if (callType(call) === 'web') throw new AppError('conflict', 'a web call has no phone caller to transfer');
    const previous = call.transferResult?.value;
    const caller = presentParticipants(call).find((p) => p.kind === 'sip');
    if (previous?.outcome === 'accepted' && previous.to === to) {
      return { callerIdentity: caller?.identity ?? '', alreadyAccepted: true };
    }
    if (!caller) throw new AppError('conflict', 'the phone caller is no longer in the call');
    const answer = await control.transferSipParticipant(roomName, caller.identity, to);
    const now = this.deps.clock();
    const reason = answer.outcome === 'failed' ? answer.reason : null;
    await this.deps.service.ingest(
      workspaceId,
      roomName,
      [{ type: 'transfer_result', id: eventId('transfer', call, now), at: now, to, outcome: answer.outcome, reason }],
      'api',
    );
    this.deps.log.info(
      { workspaceId, roomName, callId: call.id, principal, to, caller: caller.identity, outcome: answer.outcome, reason },
      'transfer',
    );
    if (answer.outcome === 'failed') {
      throw new AppError('livekit_error', `LiveKit refused the transfer: ${answer.reason}`, {
        cause: answer.error,
        extra: { ...answer.error.extra, reason: answer.reason },
      });
    }
    return { callerIdentity: caller.identity, alreadyAccepted: false };
  }
}
