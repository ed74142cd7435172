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
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigest } from '../../src/ingest/signature.ts';
import { LK_KEY, LK_SECRET, type TestWorkspace } from '../helpers/app.ts';
import { pgReachable, redisReachable } from '../helpers/backends.ts';
import {
  endpointIds,
  freshName,
  hasCall,
  parseObject,
  recordOf as recordIn,
  roomsOf,
  soleEndpoint,
  unverifiedCall,
  verifiedCall as verifiedCallIn,
  viaSse,
  viaWebSocket,
  type Answer,
  type Target,
} from '../helpers/security-targets.ts';
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

const byId = new Map(ROUTES.map((r) => [r.id, r]));
function route(id: RouteId): RouteSpec {
  const r = byId.get(id);
  if (!r) throw new Error(`no route ${id}`);
  return r;
}

const isWebhookRoute = (r: RouteSpec) => r.path.startsWith('/v2/api/webhooks');

describe.each(backends)('security table (%s)', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld(backend);
  });
  afterAll(async () => {
    await w?.close();
  });

  const verifiedCall = (ws: TestWorkspace) => verifiedCallIn(w, ws);
  const recordOf = (target: Target) => recordIn(w, target);

  /** One call of A for the wrong-key columns (refused before they reach it); a new one if a cell ended it. */
  let shared: Target | undefined;
  async function sharedCall(): Promise<Target> {
    if (!shared || !(await w.services.stores.calls.getActive(w.a.id, shared.room))) shared = await verifiedCall(w.a);
    return { ...shared };
  }

  async function prepare(r: RouteSpec, kase: CaseId): Promise<Target> {
    if (isWebhookRoute(r)) {
      // No call: the endpoint is the target.
      const [ofA, ofB] = [await soleEndpoint(w, w.a), await soleEndpoint(w, w.b)];
      const b = kase === 'otherWorkspaceRoom';
      return { owner: b ? w.b : w.a, room: '', callId: '', endpointId: b ? ofB : ofA, inLiveKit: false };
    }
    // A fresh call wherever the cell may change it (A's own control) or where it must be A's alone.
    return kase === 'owner' && r.target === 'room'
      ? await verifiedCall(w.a)
      : kase === 'otherWorkspaceRoom'
        ? await verifiedCall(w.b)
        : kase === 'unverifiedNoRoom' || kase === 'unverifiedForeignRoom'
          ? await unverifiedCall(w, kase === 'unverifiedForeignRoom')
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

  async function send(r: RouteSpec, target: Target, kase: CaseId, headers = headersFor(kase)): Promise<Answer> {
    const url = urlOf(r, target, kase);
    if (r.transport === 'sse') return viaSse(w, url, r.id === 'sseToken' ? {} : headers);
    if (r.transport === 'ws') return viaWebSocket(w, url, headers);
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
        if (r.id === 'listenToken') expect(parseObject(answer.body).token).toEqual(expect.any(String));
        else expect(w.lk.actionsOn(target.room, since)).not.toEqual([]);
      }
      if (answer.status >= 400) {
        // Refused: nothing happened anywhere.
        expect(await recordOf(target)).toEqual(before);
        expect(w.lk.actionsOn(target.room, since)).toEqual([]);
        expect(parseObject(answer.body).token).toBeUndefined();
        if (target.inLiveKit) expect(w.lk.room(target.room)).toBeDefined();
        if (isWebhookRoute(r)) expect(await endpointIds(w, target.owner)).toEqual([target.endpointId]);
      }
      if (target.owner !== w.a && target.room) {
        // A was answered about B's call: A has no call in B's room, and B's call is as it was.
        expect(await hasCall(w, w.a, target.room)).toBe(false);
        expect(await recordOf(target)).toEqual(before);
        expect(w.lk.actionsOn(target.room, since)).toEqual([]);
        if (answer.rooms) expect(answer.rooms).not.toContain(target.room);
      } else if (target.owner !== w.a) {
        // A was answered about B's endpoint: B still has it, and A's list does not show it.
        if (r.id === 'webhookList')
          expect(parseObject(answer.body).data).not.toContainEqual(expect.objectContaining({ id: target.endpointId }));
        expect(await endpointIds(w, w.b)).toEqual([target.endpointId]);
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
      expect.soft(parseObject(answer.body).token, `${step.route} handed out a token`).toBeUndefined();
    }
    expect(w.lk.actionsOn(target.room, since)).toEqual([]);
    expect(w.lk.room(target.room)).toBeDefined();
    expect(w.lk.participant(target.room, AGENT_IDENTITY)?.tracks.every((t) => !t.muted)).toBe(true);
    expect(await recordOf(target)).toEqual(before);
    expect(await hasCall(w, w.a, target.room)).toBe(false);
  });

  describe('agent events signed as LiveKit signs', () => {
    async function signedPost(room: string, workspaceId: string, grant: VideoGrant | undefined, secret = LK_SECRET) {
      const payload = JSON.stringify({
        events: [{ id: freshName('signed'), createdAt: w.clock.now, type: 'transcript', role: 'agent', content: 'signed turn' }],
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
        expect(await hasCall(w, w.a, x.room)).toBe(false);
        expect(await hasCall(w, w.a, y.room)).toBe(false);
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
