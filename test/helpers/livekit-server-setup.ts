/**
 * livecalls wired to a LiveKit stand-in whose webhooks go straight into the app (via inject), so a test
 * drives calls the way production does: rooms and participants appear in "LiveKit", livecalls hears of
 * them by signed webhooks, and livecalls acts on them through LiveKit's server API.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestApp, LK_KEY, LK_SECRET, type TestApp, type TestWorkspace } from './app.ts';
import { startLiveKitStandIn, type StandIn, type WebhookSink } from './livekit-server.ts';

export function injectSink(app: FastifyInstance): WebhookSink {
  return async (body, authorization) => {
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/livekit',
      headers: { 'content-type': 'application/webhook+json', 'user-agent': 'LiveKit', authorization },
      payload: body,
    });
    if (res.statusCode !== 200) throw new Error(`livecalls refused a webhook: ${res.statusCode} ${res.body}`);
  };
}

export interface Wired {
  t: TestApp;
  lk: StandIn;
  close(): Promise<void>;
}

export async function wired(env: Record<string, string> = {}): Promise<Wired> {
  // The stand-in exists before the app (the app needs its URL) but stamps webhooks with the app's clock.
  const clock: { now?: () => number } = {};
  const lk = await startLiveKitStandIn(LK_KEY, LK_SECRET, () => clock.now?.() ?? Date.now());
  const app = await createTestApp({ LIVEKIT_URL: lk.url, ...env });
  clock.now = () => app.clock.now;
  lk.sink = injectSink(app.app);
  return {
    t: app,
    lk,
    async close() {
      await app.close();
      await lk.close();
    },
  };
}

export const AGENT = 'agent-AJ_1';
export const CALLER = 'sip_+14155551234';
export const AGENT_TRACKS = ['TR_agent_mic', 'TR_agent_extra'];

/** A phone (or web) call: room, agent publishing two tracks, caller. Resolves once livecalls has it. */
export async function startCall(w: Wired, roomName: string, opts: { web?: boolean; ws?: TestWorkspace } = {}): Promise<void> {
  const ws = opts.ws ?? w.t.ws;
  w.lk.addRoom({ name: roomName, metadata: { workspaceId: ws.id, agentName: 'Support Agent' } });
  w.lk.addParticipant(roomName, { identity: AGENT, kind: 'agent', tracks: AGENT_TRACKS, attributes: { 'lk.agent.name': 'Support Agent' } });
  if (opts.web) w.lk.addParticipant(roomName, { identity: 'web-user', kind: 'standard', tracks: ['TR_web_mic'] });
  else
    w.lk.addParticipant(roomName, {
      identity: CALLER,
      kind: 'sip',
      tracks: ['TR_caller_mic'],
      attributes: { 'sip.phoneNumber': '+14155551234' },
    });
  await w.lk.webhooksDelivered();
}

export function post(
  w: Wired,
  roomName: string,
  action: string,
  body?: unknown,
  headers: Record<string, string> = w.t.ws.headers,
): Promise<LightMyRequestResponse> {
  return w.t.app.inject({
    method: 'POST',
    url: `/v2/api/active-calls/${encodeURIComponent(roomName)}/${action}`,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The call record (livecalls extension) of the room's active or latest ended call. */
export async function record(w: Wired, roomName: string): Promise<Record<string, unknown>> {
  const calls = w.t.services.stores.calls;
  const call = (await calls.getActive(w.t.ws.id, roomName)) ?? (await calls.latestEnded(w.t.ws.id, roomName));
  if (!call) throw new Error(`no call in ${roomName}`);
  const res = await w.t.app.inject({ url: `/v2/api/calls/${call.id}`, headers: w.t.ws.headers });
  return res.json();
}
