/**
 * Security is a table (CONVENTIONS 16): every API route against every wrong caller (security-table.ts),
 * on the embedded store and on Redis + PostgreSQL, with calls fed by the LiveKit stand-in's signed webhooks.
 * A refused cell also checks that nothing happened: the target call is unchanged, A got no call in another
 * workspace's room, LiveKit was asked to change nothing in the room (no DeleteRoom, MutePublishedTrack or
 * TransferSIPParticipant) and no listen-in token came back.
 *
 * Against the code as of this suite's first commit these expectations FAIL (the rest pass):
 *  - events × "A on B's call" (expected 404): 202. The events route takes any room name under A's key and
 *    makes it A's call, although LiveKit's webhooks put that room in B.
 *  - end-call / remove-agent / restore-agent / listen-token / transfer × both "A, unverified" columns
 *    (expected 404): control acts on any call of the workspace, even one only A's own agent events made,
 *    without LiveKit ever saying the room is A's. No room: end-call 200 ("room had already closed"),
 *    remove/restore-agent 400 (no such participant, after asking LiveKit), listen-token 200 with a token,
 *    transfer 409. A room whose metadata names another workspace: end-call 200 and the room is DELETED,
 *    remove/restore-agent 200 and the other tenant's agent is muted/unmuted, listen-token 200 with a token to
 *    that room, transfer 409 (no caller known from agent events, so no REFER).
 *  - The attack sequence: the first step (A's transcript turn into B's room) answers 202, then end-call
 *    deletes B's LiveKit room (and B's call ends), remove/restore-agent mute and unmute B's agent, and
 *    listen-token hands A a token to B's room (transfer answers 409: A's call knows no caller).
 *  - Signed agent events: a token without a `video.room` grant is accepted (202; expected 401 naming the
 *    grant); a token for room X replayed to room Y is accepted (expected 403); a token for B's room with
 *    `x-workspace-id: A` makes A a call in B's room (expected: B's call gets the turn, or a refusal).
 * That is 15 tests per backend (11 cells, the attack, 3 signed cases). The own-key, no key, unknown key,
 * revoked key and other workspace's key columns, every read, the streams and the webhook endpoint routes
 * pass today.
 */
import { randomBytes } from 'node:crypto';
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bodyDigest } from '../../src/ingest/signature.ts';
import { LK_KEY, LK_SECRET, type TestWorkspace } from '../helpers/app.ts';
import { pgReachable, redisReachable } from '../helpers/backends.ts';
import { openSse } from '../helpers/sse.ts';
import { openWorld, type Backend, type World } from '../helpers/security-world.ts';
import {
  AGENT_IDENTITY,
  ATTACK_STEPS,
  CASES,
  EXPECTED,
  ROUTES,
  routeLabel,
  showExpected,
  SIGNED_CASES,
  UNAUTHENTICATED_ROUTES,
  type CaseId,
  type RouteId,
  type RouteSpec,
} from './security-table.ts';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);
const backends: Backend[] = redisUp && pgUp ? ['embedded', 'Redis + PostgreSQL'] : ['embedded'];

const CALLER = 'sip_+14155551234';

/** What a cell aims at; `owner` is the workspace whose call or endpoint it is. */
interface Target {
  owner: TestWorkspace;
  room: string;
  callId: string;
  endpointId: string;
  /** LiveKit has a room of that name. */
  inLiveKit: boolean;
}

interface Answer {
  status: number;
  body: string;
  /** Rooms in the list, or in a stream's snapshot. */
  rooms?: string[];
}

const byId = new Map(ROUTES.map((r) => [r.id, r]));
function route(id: RouteId): RouteSpec {
  const r = byId.get(id);
  if (!r) throw new Error(`no route ${id}`);
  return r;
}

function parse(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const isWebhookRoute = (r: RouteSpec) => r.path.startsWith('/v2/api/webhooks');

function roomsOf(list: unknown): string[] {
  const data = (list as { data?: { roomName?: unknown }[] } | undefined)?.data ?? [];
  return data.map((c) => String(c.roomName));
}

describe.each(backends)('security table (%s)', (backend) => {
  let w: World;
  let seq = 0;
  beforeAll(async () => {
    w = await openWorld(backend);
  });
  afterAll(async () => {
    await w?.close();
  });

  const name = (prefix: string) => `${prefix}-${++seq}-${randomBytes(3).toString('hex')}`;

  async function say(ws: TestWorkspace, room: string, content: string): Promise<number> {
    const payload = JSON.stringify({
      events: [{ id: name('turn'), createdAt: w.clock.now, type: 'transcript', role: 'customer', content }],
    });
    const res = await w.app.inject({
      method: 'POST',
      url: `/v2/api/active-calls/${room}/events`,
      headers: { ...ws.headers, 'content-type': 'application/json' },
      payload,
    });
    return res.statusCode;
  }

  async function callIdOf(ws: TestWorkspace, room: string): Promise<string> {
    const call = await w.services.stores.calls.getActive(ws.id, room);
    if (!call) throw new Error(`no call of ${ws.id} in ${room}`);
    return call.id;
  }

  /** Does the workspace have any call, active or ended, in the room? */
  async function hasCall(ws: TestWorkspace, room: string): Promise<boolean> {
    const calls = w.services.stores.calls;
    return (await calls.getActive(ws.id, room)) !== undefined || (await calls.latestEnded(ws.id, room)) !== undefined;
  }

  function addLiveKitRoom(room: string, workspaceId: string): void {
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
  async function verifiedCall(ws: TestWorkspace): Promise<Target> {
    const room = name(ws === w.a ? 'a-call' : 'b-call');
    addLiveKitRoom(room, ws.id);
    await w.lk.webhooksDelivered();
    if ((await say(ws, room, `hello from ${ws.id}`)) !== 202) throw new Error('the owner could not report a turn');
    return { owner: ws, room, callId: await callIdOf(ws, room), endpointId: '', inLiveKit: true };
  }

  /** A's call from A's own agent events only; then, if `foreignRoom`, LiveKit opens a room of that name for another tenant. */
  async function unverifiedCall(foreignRoom: boolean): Promise<Target> {
    const room = name(foreignRoom ? 'a-foreign' : 'a-ghost');
    if ((await say(w.a, room, 'hello from an agent LiveKit never announced')) !== 202) throw new Error('A could not report a turn');
    if (foreignRoom) {
      // Its webhooks name a workspace livecalls does not have: acknowledged and ignored.
      addLiveKitRoom(room, `ws_${randomBytes(8).toString('hex')}`);
      await w.lk.webhooksDelivered();
    }
    return { owner: w.a, room, callId: await callIdOf(w.a, room), endpointId: '', inLiveKit: foreignRoom };
  }

  /** The only webhook endpoint of `ws` (a workspace may have 20: the cells would run out). */
  async function soleEndpoint(ws: TestWorkspace): Promise<string> {
    for (const e of await w.services.webhooks.list(ws.id)) await w.services.webhooks.remove(ws.id, e.id);
    const e = await w.services.webhooks.register(ws.id, { url: 'https://hooks.example.com/livecalls', events: ['call.started'] });
    return e.id;
  }

  /** One call of A for the wrong-key columns (refused before they reach it); a new one if a cell ended it. */
  let shared: Target | undefined;
  async function sharedCall(): Promise<Target> {
    if (!shared || !(await w.services.stores.calls.getActive(w.a.id, shared.room))) shared = await verifiedCall(w.a);
    return { ...shared };
  }

  async function prepare(r: RouteSpec, kase: CaseId): Promise<Target> {
    if (isWebhookRoute(r)) {
      // No call: the endpoint is the target.
      const [ofA, ofB] = [await soleEndpoint(w.a), await soleEndpoint(w.b)];
      const b = kase === 'otherWorkspaceRoom';
      return { owner: b ? w.b : w.a, room: '', callId: '', endpointId: b ? ofB : ofA, inLiveKit: false };
    }
    // A fresh call wherever the cell may change it (A's own control) or where it must be A's alone.
    return kase === 'owner' && r.target === 'room'
      ? await verifiedCall(w.a)
      : kase === 'otherWorkspaceRoom'
        ? await verifiedCall(w.b)
        : kase === 'unverifiedNoRoom' || kase === 'unverifiedForeignRoom'
          ? await unverifiedCall(kase === 'unverifiedForeignRoom')
          : await sharedCall();
  }

  function headersFor(kase: CaseId): Record<string, string> {
    const a = w.a.id;
    switch (kase) {
      case 'noKey':
        return { 'x-workspace-id': a };
      case 'unknownKey':
        return { 'x-api-key': w.unknownKey, 'x-workspace-id': a };
      case 'revokedKey':
        return { 'x-api-key': w.revokedKey, 'x-workspace-id': a };
      case 'otherWorkspaceKey':
        return { 'x-api-key': w.b.apiKey, 'x-workspace-id': a };
      default:
        return w.a.headers;
    }
  }

  function streamTokenFor(kase: CaseId): string {
    if (kase === 'unknownKey') return w.streamTokens.forged;
    if (kase === 'revokedKey') return w.streamTokens.revoked;
    return w.streamTokens.a;
  }

  function urlOf(r: RouteSpec, target: Target, kase: CaseId): string {
    const path = r.path
      .replace('{roomName}', encodeURIComponent(target.room))
      .replace('{id}', isWebhookRoute(r) ? target.endpointId : target.callId);
    return r.id === 'sseToken' ? `${path}?token=${encodeURIComponent(streamTokenFor(kase))}` : path;
  }

  async function viaSse(url: string, headers: Record<string, string>): Promise<Answer> {
    const client = await openSse(`${w.base}${url}`, headers);
    try {
      if (client.status !== 200) return { status: client.status, body: client.frames[0]?.data ?? '' };
      const snapshot = await client.next((f) => f.event === 'snapshot');
      return { status: 200, body: snapshot.data, rooms: roomsOf(client.json(snapshot)) };
    } finally {
      client.close();
    }
  }

  function viaWebSocket(url: string, headers: Record<string, string>): Promise<Answer> {
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
        const frame = parse(m.toString());
        if (frame.event !== 'snapshot') return;
        ws.close();
        done({ status: 101, body: m.toString(), rooms: roomsOf(frame.data) });
      });
      ws.on('error', () => undefined);
    });
  }

  async function send(r: RouteSpec, target: Target, kase: CaseId, headers = headersFor(kase)): Promise<Answer> {
    const url = urlOf(r, target, kase);
    if (r.transport === 'sse') return viaSse(url, r.id === 'sseToken' ? {} : headers);
    if (r.transport === 'ws') return viaWebSocket(url, headers);
    const body = r.body?.(w.clock.now);
    const res = await w.app.inject({
      method: r.method,
      url,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer: Answer = { status: res.statusCode, body: res.body };
    if (r.id === 'list' && res.statusCode === 200) answer.rooms = roomsOf(res.json());
    return answer;
  }

  /** The call as its owner sees it by id (transcript, participants, takeover, transfer, end). */
  async function recordOf(target: Target): Promise<unknown> {
    if (!target.callId) return undefined;
    const res = await w.app.inject({ url: `/v2/api/calls/${target.callId}`, headers: target.owner.headers });
    if (res.statusCode !== 200) throw new Error(`owner cannot read its call: ${res.statusCode}`);
    return res.json();
  }

  async function endpointIds(ws: TestWorkspace): Promise<string[]> {
    return (await w.services.webhooks.list(ws.id)).map((e) => e.id);
  }

  const cells = ROUTES.flatMap((r) =>
    CASES.flatMap((c) => {
      const expected = EXPECTED[r.id][c.id];
      return expected === undefined
        ? []
        : [{ label: `${routeLabel(r)} | ${c.title} -> ${showExpected(expected)}`, r, kase: c.id, expected }];
    }),
  );

  for (const { label, r, kase, expected } of cells) {
    it(label, async () => {
      const target = await prepare(r, kase);
      const before = await recordOf(target);
      const since = w.lk.requests.length;
      const answer = await send(r, target, kase);

      const said = answer.body.slice(0, 300);
      if (typeof expected === 'number') expect(answer.status, said).toBe(expected);
      else expect(expected, said).toContain(answer.status);

      if (kase === 'owner' && r.control) {
        // The control cell: the same request, by the call's owner, does reach LiveKit.
        if (r.id === 'listenToken') expect(parse(answer.body).token).toEqual(expect.any(String));
        else expect(w.lk.actionsOn(target.room, since)).not.toEqual([]);
      }
      if (answer.status >= 400) {
        // Refused: nothing happened anywhere.
        expect(await recordOf(target)).toEqual(before);
        expect(w.lk.actionsOn(target.room, since)).toEqual([]);
        expect(parse(answer.body).token).toBeUndefined();
        if (target.inLiveKit) expect(w.lk.room(target.room)).toBeDefined();
        if (isWebhookRoute(r)) expect(await endpointIds(target.owner)).toEqual([target.endpointId]);
      }
      if (target.owner !== w.a && target.room) {
        // A was answered about B's call: A has no call in B's room, and B's call is as it was.
        expect(await hasCall(w.a, target.room)).toBe(false);
        expect(await recordOf(target)).toEqual(before);
        expect(w.lk.actionsOn(target.room, since)).toEqual([]);
        if (answer.rooms) expect(answer.rooms).not.toContain(target.room);
      } else if (target.owner !== w.a) {
        // A was answered about B's endpoint: B still has it, and A's list does not show it.
        if (r.id === 'webhookList') expect(parse(answer.body).data).not.toContainEqual(expect.objectContaining({ id: target.endpointId }));
        expect(await endpointIds(w.b)).toEqual([target.endpointId]);
      } else if ((kase === 'unverifiedNoRoom' || kase === 'unverifiedForeignRoom') && answer.rooms) {
        // A's own unverified call: A reads it.
        expect(answer.rooms).toContain(target.room);
      }
    });
  }

  it("attack: A reports a turn into B's room, then tries every control route; each 404s, LiveKit untouched, no token", async () => {
    const target = await verifiedCall(w.b);
    const before = await recordOf(target);
    const since = w.lk.requests.length;
    for (const step of ATTACK_STEPS) {
      const answer = await send(route(step.route), target, 'otherWorkspaceRoom', w.a.headers);
      expect.soft(answer.status, `${step.route}: ${answer.body.slice(0, 200)}`).toBe(step.expected);
      expect.soft(parse(answer.body).token, `${step.route} handed out a token`).toBeUndefined();
    }
    expect(w.lk.actionsOn(target.room, since)).toEqual([]);
    expect(w.lk.room(target.room)).toBeDefined();
    expect(w.lk.participant(target.room, AGENT_IDENTITY)?.tracks.every((t) => !t.muted)).toBe(true);
    expect(await recordOf(target)).toEqual(before);
    expect(await hasCall(w.a, target.room)).toBe(false);
  });

  describe('agent events signed as LiveKit signs', () => {
    async function signedPost(room: string, workspaceId: string, grant: VideoGrant | undefined, secret = LK_SECRET) {
      const payload = JSON.stringify({
        events: [{ id: name('signed'), createdAt: w.clock.now, type: 'transcript', role: 'agent', content: 'signed turn' }],
      });
      const token = new AccessToken(LK_KEY, secret, { ttl: '5m' });
      if (grant) token.addGrant(grant);
      token.sha256 = bodyDigest(payload);
      return w.app.inject({
        method: 'POST',
        url: `/v2/api/active-calls/${encodeURIComponent(room)}/events`,
        headers: { 'content-type': 'application/json', authorization: await token.toJwt(), 'x-workspace-id': workspaceId },
        payload,
      });
    }
    const transcriptOf = async (target: Target) => (await recordOf(target)) as { transcript: { content: string }[] };

    for (const { id, title, expected } of SIGNED_CASES) {
      it(`${title} -> ${showExpected(expected)}`, async () => {
        const x = await verifiedCall(w.b);
        const y = await verifiedCall(w.b);
        const [beforeX, beforeY] = [await recordOf(x), await recordOf(y)];
        const room = id === 'otherRoomGrant' ? y.room : x.room;
        const workspaceId = id === 'ownerRoomAsOtherWorkspace' ? w.a.id : w.b.id;
        const grant = id === 'noRoomGrant' ? undefined : { room: x.room };
        const secret = id === 'wrongSecret' ? 'another-secret-0123456789abcdefghijklmn' : LK_SECRET;
        const res = await signedPost(room, workspaceId, grant, secret);

        if (typeof expected === 'number') expect(res.statusCode, res.body).toBe(expected);
        else expect(expected, res.body).toContain(res.statusCode);
        expect(await hasCall(w.a, x.room)).toBe(false);
        expect(await hasCall(w.a, y.room)).toBe(false);
        expect(await recordOf(y)).toEqual(beforeY);
        if (id === 'noRoomGrant') expect(res.json().error.message).toMatch(/room.*grant|grant.*room/i);
        if (res.statusCode === 202) {
          // Accepted: the turn is in the call LiveKit bound to the room, B's X.
          expect((await transcriptOf(x)).transcript.map((t) => t.content)).toContain('signed turn');
        } else {
          expect(await recordOf(x)).toEqual(beforeX);
        }
      });
    }
  });

  it('covers every documented route: in the table, or unauthenticated on purpose', async () => {
    const doc = (await w.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = new Set([...ROUTES.map((r) => `${r.method} ${r.path}`), ...UNAUTHENTICATED_ROUTES]);
    expect(documented.filter((d) => !covered.has(d))).toEqual([]);
  });
});
