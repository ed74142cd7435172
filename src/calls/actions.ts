/**
 * Supervisor actions on a live call through LiveKit: end-call, human takeover (mute the agent) and back,
 * listen-in tokens, transfer of the phone caller. Each acts on LiveKit first and records here only what
 * LiveKit did, is logged with who did it, and is safe to repeat.
 *
 * Tenancy: before anything is asked of LiveKit or a token is signed, LiveKit itself is asked (ListRooms, in
 * the workspace's own project) whether the room exists and names the caller's workspace in its metadata,
 * with the sid the call knows. Otherwise the answer is 404 and nothing happens: a call this workspace only
 * asserted (unverified, see ./ownership.ts) can never reach another tenant's room. An unverified call whose
 * room LiveKit does confirm becomes owned on the spot, as a webhook would have made it.
 */
import { randomBytes } from 'node:crypto';
import { ParticipantInfo_Kind } from '@livekit/protocol';
import type { Logger } from 'pino';
import { callType, type Call } from '../domain/call.ts';
import { presentParticipants } from '../domain/view.ts';
import { AppError } from '../errors.ts';
import type { Room } from '@livekit/protocol';
import type { CallControl, ListenToken } from '../control/livekit.ts';
import type { LiveKitProjects } from '../control/projects.ts';
import { parseRoomMetadata } from '../ingest/livekit.ts';
import type { CallStore } from '../store/types.ts';
import { notFound } from './ownership.ts';
import { adoptListedRoom } from './reconcile.ts';
import type { CallService, Clock, EndCallOutcome } from './service.ts';

export interface TransferDone {
  callerIdentity: string;
  /** The same transfer had already been accepted: LiveKit was not asked again. */
  alreadyAccepted: boolean;
}

export interface CallActionsDeps {
  service: CallService;
  calls: CallStore;
  projects: LiveKitProjects;
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

  /** The room's active call; 409 when the room's call has ended, 404 when the workspace has none. */
  private async liveCall(workspaceId: string, roomName: string): Promise<Call> {
    const call = await this.deps.calls.getActive(workspaceId, roomName);
    if (call) return call;
    if (await this.deps.calls.latestEnded(workspaceId, roomName)) {
      throw new AppError('conflict', `the call in room "${roomName}" has ended`);
    }
    throw notFound(roomName);
  }

  /**
   * The live call and its workspace's LiveKit control, once LiveKit confirmed the room is this workspace's
   * (see the module). `room` is undefined only when LiveKit no longer lists a room the call was bound to.
   * `active`: the room's active call, when the caller has just read it.
   */
  private async confirmed(
    workspaceId: string,
    roomName: string,
    active?: Call,
  ): Promise<{ call: Call; control: CallControl; room: Room | undefined }> {
    const control = await this.deps.projects.controlFor(workspaceId);
    let call = active ?? (await this.liveCall(workspaceId, roomName));
    const room = await control.getRoom(roomName);
    if (!room) {
      // A room LiveKit bound to this workspace and has since closed: a ghost of a lost room_finished.
      if (call.roomSid !== '') return { call, control, room: undefined };
      throw notFound(roomName);
    }
    if (parseRoomMetadata(room.metadata).workspaceId !== workspaceId) throw notFound(roomName);
    if (call.roomSid !== '' && call.roomSid !== room.sid) throw notFound(roomName);
    if (call.roomSid === '') {
      const project = (await this.deps.projects.forWorkspace(workspaceId))?.apiKey ?? '';
      await adoptListedRoom(this.deps.service, control, workspaceId, room, project, this.deps.clock());
      call = (await this.deps.calls.getActive(workspaceId, roomName)) ?? call;
      if (call.roomSid !== room.sid) throw notFound(roomName);
    }
    return { call, control, room };
  }

  /**
   * End-call: LiveKit first (deleting the room is the reliable hang-up), then here. Repeating it is safe:
   * a call that is already ended answers with its end time again.
   */
  async endCall(workspaceId: string, roomName: string, principal: string): Promise<EndCallOutcome> {
    const active = await this.deps.calls.getActive(workspaceId, roomName);
    if (!active) {
      const ended = await this.deps.calls.latestEnded(workspaceId, roomName);
      if (ended?.endedAt != null) return { call: ended, alreadyEnded: true, roomWasGone: false };
      throw notFound(roomName);
    }
    const { call, control, room } = await this.confirmed(workspaceId, roomName, active);
    // The call ends when the end was asked for, before the room is deleted: LiveKit's room_finished, which
    // the deletion causes, may be handled first and is stamped no earlier than a second before this (see
    // standingEnd), however long the deletion and this request take.
    const askedAt = this.deps.clock();
    const outcome = room ? await control.deleteRoom(roomName) : 'not_found';
    this.deps.log.info({ workspaceId, roomName, callId: call.id, principal, livekit: outcome }, 'call ended through the API');
    return {
      call: await this.deps.service.endHere(workspaceId, call, 'ended_by_api', askedAt),
      alreadyEnded: false,
      roomWasGone: outcome === 'not_found',
    };
  }

  /**
   * Mutes (takeover) or unmutes (restore) every track the agent publishes; returns their sids. The agent is
   * checked against LiveKit's own view (kind AGENT), since our participant list may lag its webhooks; an
   * identity we know as a non-agent is refused without asking LiveKit.
   */
  async setAgentMuted(workspaceId: string, roomName: string, identity: string, muted: boolean, principal: string): Promise<string[]> {
    const { call, control, room } = await this.confirmed(workspaceId, roomName);
    if (!room) throw notFound(roomName);
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
    const { call, control, room } = await this.confirmed(workspaceId, roomName);
    if (!room) throw notFound(roomName);
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
    const { call, control, room } = await this.confirmed(workspaceId, roomName);
    if (!room) throw notFound(roomName);
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
