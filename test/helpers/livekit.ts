/** Builders for LiveKit webhooks (real @livekit/protocol messages, signed as LiveKit signs them). */
import { randomBytes } from 'node:crypto';
import { ParticipantInfo, ParticipantInfo_Kind, Room, WebhookEvent } from '@livekit/protocol';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { signBody, signWebhook } from '../../src/simulate/sign.ts';
import { LK_KEY, LK_SECRET } from './app.ts';

export interface RoomSpec {
  name: string;
  sid?: string;
  workspaceId?: string;
  agentName?: string;
  customerName?: string;
  /** epoch ms */
  createdAt: number;
  metadata?: string;
}

export function rid(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export function room(spec: RoomSpec): Room {
  const metadata =
    spec.metadata ?? JSON.stringify({ workspaceId: spec.workspaceId, agentName: spec.agentName, customerName: spec.customerName });
  return new Room({
    sid: spec.sid ?? `RM_${spec.name}`,
    name: spec.name,
    creationTime: BigInt(Math.floor(spec.createdAt / 1000)),
    creationTimeMs: BigInt(spec.createdAt),
    metadata,
    emptyTimeout: 300,
  });
}

export type Kind = 'agent' | 'sip' | 'standard';

export function participant(
  identity: string,
  kind: Kind,
  joinedAt: number,
  extra: { phone?: string; metadata?: string; sid?: string; agentName?: string } = {},
): ParticipantInfo {
  const attributes: Record<string, string> = {};
  if (extra.phone) attributes['sip.phoneNumber'] = extra.phone;
  if (kind === 'sip') attributes['sip.callID'] = 'SCL_test';
  if (extra.agentName) attributes['lk.agent.name'] = extra.agentName;
  return new ParticipantInfo({
    sid: extra.sid ?? `PA_${identity}`,
    identity,
    name: identity,
    kind: kind === 'agent' ? ParticipantInfo_Kind.AGENT : kind === 'sip' ? ParticipantInfo_Kind.SIP : ParticipantInfo_Kind.STANDARD,
    joinedAt: BigInt(Math.floor(joinedAt / 1000)),
    joinedAtMs: BigInt(joinedAt),
    metadata: extra.metadata ?? '',
    attributes,
  });
}

export function webhook(event: string, r: Room, at: number, p?: ParticipantInfo, id = rid('EV')): WebhookEvent {
  return new WebhookEvent({ event, id, createdAt: BigInt(Math.floor(at / 1000)), room: r, participant: p });
}

export async function postWebhook(
  app: FastifyInstance,
  event: WebhookEvent,
  key = LK_KEY,
  secret = LK_SECRET,
): Promise<LightMyRequestResponse> {
  const { body, authorization } = await signWebhook(event, key, secret);
  return app.inject({
    method: 'POST',
    url: '/webhooks/livekit',
    headers: { 'content-type': 'application/webhook+json', authorization },
    payload: body,
  });
}

export interface AgentEventInput {
  id: string;
  createdAt: number;
  type: string;
  [k: string]: unknown;
}

export async function postAgentEvents(
  app: FastifyInstance,
  roomName: string,
  events: AgentEventInput[],
  /** `signedFor`: the x-workspace-id sent beside the signature (omitted when undefined); `room`: the grant (default: the path's room). */
  auth: { headers: Record<string, string> } | { signedFor: string | undefined; room?: string | null; key?: string; secret?: string },
  /** Other top-level body fields, e.g. `roomSid`. */
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  const payload = JSON.stringify({ ...extra, events });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if ('headers' in auth) Object.assign(headers, auth.headers);
  else {
    const room = auth.room === undefined ? roomName : (auth.room ?? undefined);
    headers.authorization = await signBody(payload, auth.key ?? LK_KEY, auth.secret ?? LK_SECRET, '5m', room);
    if (auth.signedFor !== undefined) headers['x-workspace-id'] = auth.signedFor;
  }
  return app.inject({ method: 'POST', url: `/v2/api/active-calls/${encodeURIComponent(roomName)}/events`, headers, payload });
}

let turnSeq = 0;
export function turn(role: 'agent' | 'customer', content: string, createdAt: number, id = `t${++turnSeq}`): AgentEventInput {
  return { id, createdAt, type: 'transcript', role, content };
}
