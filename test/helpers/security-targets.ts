/**
 * What the security table aims at, made in a World (security-world.ts) the way production makes it: calls
 * that LiveKit's signed webhooks announce, calls known only from a workspace's own agent events, webhook
 * endpoints; and how a cell reads the answer, over HTTP, SSE or WebSocket.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { AGENT_IDENTITY } from '../http/security-table.ts';
import type { TestWorkspace } from './app.ts';
import type { World } from './security-world.ts';
import { openSse } from './sse.ts';

/** The phone caller in every call made here (the agent is the table's, as remove-agent names it). */
export const CALLER = 'sip_+14155551234';

/** What a cell aims at; `owner` is the workspace whose call or endpoint it is. */
export interface Target {
  owner: TestWorkspace;
  /** '' when the cell aims at a webhook endpoint. */
  room: string;
  callId: string;
  endpointId: string;
  /** LiveKit has a room of that name. */
  inLiveKit: boolean;
}

export interface Answer {
  status: number;
  body: string;
  /** Rooms in the list, or in a stream's snapshot. */
  rooms?: string[];
}

let seq = 0;
/** A fresh name (room, event id) under a readable prefix. */
export const freshName = (prefix: string) => `${prefix}-${++seq}-${randomBytes(3).toString('hex')}`;

/** The body as a JSON object; {} when it is not one. */
export function parseObject(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function roomsOf(list: unknown): string[] {
  const data = (list as { data?: { roomName?: unknown }[] } | undefined)?.data ?? [];
  return data.map((c) => String(c.roomName));
}

/** A transcript turn from the workspace's agent, with its API key; the status. */
export async function say(w: World, ws: TestWorkspace, room: string, content: string): Promise<number> {
  const payload = JSON.stringify({
    events: [{ id: freshName('turn'), createdAt: w.clock.now, type: 'transcript', role: 'customer', content }],
  });
  const res = await w.app.inject({
    method: 'POST',
    url: `/v2/api/active-calls/${encodeURIComponent(room)}/events`,
    headers: { ...ws.headers, 'content-type': 'application/json' },
    payload,
  });
  return res.statusCode;
}

async function callIdOf(w: World, ws: TestWorkspace, room: string): Promise<string> {
  const call = await w.services.stores.calls.getActive(ws.id, room);
  if (!call) throw new Error(`no call of ${ws.id} in ${room}`);
  return call.id;
}

/** Does the workspace have any call, active or ended, in the room? */
export async function hasCall(w: World, ws: TestWorkspace, room: string): Promise<boolean> {
  const calls = w.services.stores.calls;
  return (await calls.getActive(ws.id, room)) !== undefined || (await calls.latestEnded(ws.id, room)) !== undefined;
}

/** A LiveKit room whose metadata names `workspaceId`, with an agent publishing a track and a SIP caller. */
function addLiveKitRoom(w: World, room: string, workspaceId: string): void {
  w.lk.addRoom({ name: room, metadata: { workspaceId, agentName: 'Support Agent' } });
  w.lk.addParticipant(room, {
    identity: AGENT_IDENTITY,
    kind: 'agent',
    tracks: ['TR_agent_mic'],
    attributes: { 'lk.agent.name': 'Support Agent' },
  });
  w.lk.addParticipant(room, {
    identity: CALLER,
    kind: 'sip',
    tracks: ['TR_caller_mic'],
    attributes: { 'sip.phoneNumber': '+14155551234' },
  });
}

/** A call LiveKit's signed webhooks put in `ws`, live, with a transcript turn from its own agent. */
export async function verifiedCall(w: World, ws: TestWorkspace): Promise<Target> {
  const room = freshName(ws === w.a ? 'a-call' : 'b-call');
  addLiveKitRoom(w, room, ws.id);
  await w.lk.webhooksDelivered();
  if ((await say(w, ws, room, `hello from ${ws.id}`)) !== 202) throw new Error('the owner could not report a turn');
  return { owner: ws, room, callId: await callIdOf(w, ws, room), endpointId: '', inLiveKit: true };
}

/** A's call from A's own agent events only; then, if `foreignRoom`, LiveKit opens a room of that name for another tenant. */
export async function unverifiedCall(w: World, foreignRoom: boolean): Promise<Target> {
  const room = freshName(foreignRoom ? 'a-foreign' : 'a-ghost');
  if ((await say(w, w.a, room, 'hello from an agent LiveKit never announced')) !== 202) throw new Error('A could not report a turn');
  if (foreignRoom) {
    // Its webhooks name a workspace livecalls does not have: acknowledged and ignored.
    addLiveKitRoom(w, room, `ws_${randomBytes(8).toString('hex')}`);
    await w.lk.webhooksDelivered();
  }
  return { owner: w.a, room, callId: await callIdOf(w, w.a, room), endpointId: '', inLiveKit: foreignRoom };
}

/** Makes a new endpoint the only webhook endpoint of `ws` (a workspace may have 20: the cells would run out). */
export async function soleEndpoint(w: World, ws: TestWorkspace): Promise<string> {
  for (const e of await w.services.webhooks.list(ws.id)) await w.services.webhooks.remove(ws.id, e.id);
  const e = await w.services.webhooks.register(ws.id, { url: 'https://hooks.example.com/livecalls', events: ['call.started'] });
  return e.id;
}

export async function endpointIds(w: World, ws: TestWorkspace): Promise<string[]> {
  return (await w.services.webhooks.list(ws.id)).map((e) => e.id);
}

/** The call as its owner sees it by id (transcript, participants, takeover, transfer, end). */
export async function recordOf(w: World, target: Target): Promise<unknown> {
  if (!target.callId) return undefined;
  const res = await w.app.inject({ url: `/v2/api/calls/${target.callId}`, headers: target.owner.headers });
  if (res.statusCode !== 200) throw new Error(`owner cannot read its call: ${res.statusCode}`);
  return res.json();
}

/** Opens the SSE stream: the refusal, or the rooms of its first snapshot. */
export async function viaSse(w: World, url: string, headers: Record<string, string>): Promise<Answer> {
  const client = await openSse(`${w.base}${url}`, headers);
  try {
    if (client.status !== 200) return { status: client.status, body: client.frames[0]?.data ?? '' };
    const snapshot = await client.next((f) => f.event === 'snapshot');
    return { status: 200, body: snapshot.data, rooms: roomsOf(client.json(snapshot)) };
  } finally {
    client.close();
  }
}

/** Opens the WebSocket stream: the refused upgrade, or 101 and the rooms of its first snapshot. */
export function viaWebSocket(w: World, url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${w.base.replace('http', 'ws')}${url}`, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no answer on the WebSocket'));
    }, 5_000);
    const done = (a: Answer) => {
      clearTimeout(timer);
      resolve(a);
    };
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    ws.on('message', (m: Buffer) => {
      const frame = parseObject(m.toString());
      if (frame.event !== 'snapshot') return;
      ws.close();
      done({ status: 101, body: m.toString(), rooms: roomsOf(frame.data) });
    });
    ws.on('error', () => undefined);
  });
}
