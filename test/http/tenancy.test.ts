/**
 * Tenancy proven by LiveKit (src/calls/ownership.ts): a workspace's agent events only ever assert a room;
 * LiveKit's webhooks and ListRooms prove it. Driven against the LiveKit stand-in, whose webhooks can be held
 * back (sink detached) to play "LiveKit has the room, its webhooks are not here yet".
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LK_KEY, LK_SECRET, type TestWorkspace } from '../helpers/app.ts';
import { injectSink, post, startCall, wired, AGENT, type Wired } from '../helpers/livekit-server-setup.ts';
import { startLiveKitStandIn, type StandIn } from '../helpers/livekit-server.ts';
import { participant, postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let w: Wired | undefined;

/** What LiveKit does in `change` sends no webhook: LiveKit has it, livecalls has not heard (yet, or ever). */
function withoutWebhooks(x: Wired, change: (x: Wired) => void): void {
  const sink = x.lk.sink;
  x.lk.sink = undefined;
  try {
    change(x);
  } finally {
    x.lk.sink = sink;
  }
}
let other: StandIn | undefined;
afterEach(async () => {
  await w?.close();
  await other?.close();
  w = undefined;
  other = undefined;
});

const get = (x: Wired, url: string, ws: TestWorkspace) => x.t.app.inject({ url, headers: ws.headers });
const roomsOf = async (x: Wired, ws: TestWorkspace) =>
  (await get(x, '/v2/api/active-calls', ws)).json().data.map((c: { roomName: string }) => c.roomName);
const recordOf = async (x: Wired, ws: TestWorkspace, roomName: string) => {
  const calls = x.t.services.stores.calls;
  const call = (await calls.getActive(ws.id, roomName)) ?? (await calls.latestEnded(ws.id, roomName));
  return call && (await get(x, `/v2/api/calls/${call.id}`, ws)).json();
};

/** Every control route, with a valid body. */
const CONTROL: [string, unknown][] = [
  ['end-call', undefined],
  ['remove-agent', { participantIdentity: AGENT }],
  ['restore-agent', { participantIdentity: AGENT }],
  ['listen-token', undefined],
  ['transfer', { to: 'tel:+14155550000' }],
];

describe('agent events only assert a room', () => {
  it('a call known only from agent events is unverified, and is dropped (not_owner) when LiveKit binds the room elsewhere', async () => {
    w = await wired();
    const a = w.t.ws;
    const b = await w.t.newWorkspace('b');
    expect(
      (await postAgentEvents(w.t.app, 'their-room', [turn('customer', 'planted by A', w.t.clock.now)], { headers: a.headers })).statusCode,
    ).toBe(202);
    expect(await roomsOf(w, a)).toEqual(['their-room']);
    expect((await recordOf(w, a, 'their-room')).ownership).toBe('unverified');

    // LiveKit's webhooks name B for that room: A's call ends, B's call holds nothing of A's.
    await startCall(w, 'their-room', { ws: b });
    expect(await roomsOf(w, a)).toEqual([]);
    expect(await recordOf(w, a, 'their-room')).toMatchObject({ status: 'ended', endReason: 'not_owner' });
    expect(await roomsOf(w, b)).toEqual(['their-room']);
    const details = (await get(w, '/v2/api/active-calls/their-room', b)).json();
    expect(details.transcript).toEqual([]);
    expect((await recordOf(w, b, 'their-room')).ownership).toBe('owned');

    // From now on A's events for that room are a 404, and nothing is stored.
    const again = await postAgentEvents(w.t.app, 'their-room', [turn('customer', 'again', w.t.clock.now)], { headers: a.headers });
    expect(again.statusCode).toBe(404);
    expect(await roomsOf(w, a)).toEqual([]);
    expect((await get(w, '/v2/api/active-calls/their-room', b)).json().transcript).toEqual([]);
  });

  it("the owner's own early events become its owned call when LiveKit's webhooks arrive", async () => {
    w = await wired();
    await postAgentEvents(w.t.app, 'early', [turn('agent', 'hello', w.t.clock.now)], { headers: w.t.ws.headers });
    expect((await recordOf(w, w.t.ws, 'early')).ownership).toBe('unverified');
    await startCall(w, 'early');
    expect(await recordOf(w, w.t.ws, 'early')).toMatchObject({ status: 'active', ownership: 'owned' });
    expect((await get(w, '/v2/api/active-calls/early', w.t.ws)).json().transcript).toEqual([{ role: 'agent', content: 'hello' }]);
  });

  it('a name freed by a finished room can be used by another workspace', async () => {
    w = await wired();
    const b = await w.t.newWorkspace('b');
    await startCall(w, 'reused', { ws: b });
    w.lk.deleteRoom('reused');
    await w.lk.webhooksDelivered();
    const res = await postAgentEvents(w.t.app, 'reused', [turn('agent', 'new call', w.t.clock.now)], { headers: w.t.ws.headers });
    expect(res.statusCode).toBe(202);
    expect(await roomsOf(w, w.t.ws)).toEqual(['reused']);
  });
});

describe('ownership is per LiveKit project and per room', () => {
  it("a signed request for a reused name goes to the new room's owner, not the finished room's", async () => {
    w = await wired();
    const c = await w.t.newWorkspace('c');
    await startCall(w, 'sip-4155551234', { ws: c });
    w.lk.deleteRoom('sip-4155551234');
    await w.lk.webhooksDelivered();
    // LiveKit reuses the name for A's room; its webhooks are not here yet.
    withoutWebhooks(w, (x) => {
      x.lk.addRoom({ name: 'sip-4155551234', metadata: { workspaceId: x.t.ws.id } });
    });
    const res = await postAgentEvents(w.t.app, 'sip-4155551234', [turn('customer', "A's caller", w.t.clock.now)], { signedFor: undefined });
    expect(res.statusCode).toBe(202);
    expect(await roomsOf(w, c)).toEqual([]);
    expect((await get(w, '/v2/api/active-calls/sip-4155551234', w.t.ws)).json().transcript).toEqual([
      { role: 'customer', content: "A's caller" },
    ]);
  });

  it('a late webhook of a finished room does not drop a new unverified call of the name', async () => {
    w = await wired();
    const c = await w.t.newWorkspace('c');
    const start = w.t.clock.now - 60_000;
    const old = room({ name: 'reused-late', sid: 'RM_old', workspaceId: c.id, createdAt: start });
    await postWebhook(w.t.app, webhook('room_started', old, start));
    await postWebhook(w.t.app, webhook('room_finished', old, start + 10_000));
    await postAgentEvents(w.t.app, 'reused-late', [turn('customer', 'new call', w.t.clock.now)], { headers: w.t.ws.headers });
    await postWebhook(w.t.app, webhook('room_started', old, start));
    expect(await roomsOf(w, w.t.ws)).toEqual(['reused-late']);
  });

  it("another project's room of the same name, even one claiming a future creation time, leaves this project's rooms alone", async () => {
    w = await wired();
    other = await startLiveKitStandIn('APIother', 'other-project-secret-0123456789abcdefgh', () => w!.t.clock.now);
    const b = await w.t.newWorkspace('b');
    await w.t.services.stores.tenants.setLiveKit(b.id, {
      url: other.url,
      apiKey: 'APIother',
      secret: w.t.services.secret.seal('other-project-secret-0123456789abcdefgh', b.id),
    });
    await postAgentEvents(w.t.app, 'support-42', [turn('customer', 'A early', w.t.clock.now)], { headers: w.t.ws.headers });
    const future = Date.UTC(2100, 0, 1);
    const forged = room({ name: 'support-42', sid: 'RM_forged', workspaceId: b.id, createdAt: future });
    const res = await postWebhook(
      w.t.app,
      webhook('room_started', forged, w.t.clock.now),
      'APIother',
      'other-project-secret-0123456789abcdefgh',
    );
    expect(res.json()).toMatchObject({ status: 'applied' });
    expect(await roomsOf(w, w.t.ws)).toEqual(['support-42']);
    const more = await postAgentEvents(w.t.app, 'support-42', [turn('customer', 'A again', w.t.clock.now)], { headers: w.t.ws.headers });
    expect(more.statusCode).toBe(202);
    await startCall(w, 'support-42');
    expect(await recordOf(w, w.t.ws, 'support-42')).toMatchObject({ status: 'active', ownership: 'owned' });
  });

  it('one LiveKit project that cannot be reached does not stop reconciling the others', async () => {
    w = await wired();
    const b = await w.t.newWorkspace('b');
    await w.t.services.stores.tenants.setLiveKit(b.id, {
      url: 'http://127.0.0.1:9',
      apiKey: 'APIdown',
      secret: w.t.services.secret.seal('down-project-secret-0123456789abcdefgh', b.id),
    });
    await startCall(w, 'ghost');
    // room_finished is lost
    withoutWebhooks(w, (x) => {
      x.lk.deleteRoom('ghost');
    });
    w.t.clock.advance(60_000);
    const result = await w.t.services.reconciler.reconcile();
    expect(result).toMatchObject({ ran: true, ended: 1 });
    expect(await roomsOf(w, w.t.ws)).toEqual([]);
  });
});

describe('call control asks LiveKit first', () => {
  it.each(CONTROL)(
    '%s on an unverified call whose room LiveKit gives another workspace: 404, nothing asked of LiveKit',
    async (action, body) => {
      w = await wired();
      const b = await w.t.newWorkspace('b');
      // B's room exists in LiveKit, its webhooks have not arrived; A planted a call of that name.
      withoutWebhooks(w, (x) => {
        x.lk.addRoom({ name: 'victim', metadata: { workspaceId: b.id } });
        x.lk.addParticipant('victim', { identity: AGENT, kind: 'agent', tracks: ['TR_a'] });
        x.lk.addParticipant('victim', { identity: 'sip_+1', kind: 'sip', tracks: ['TR_c'] });
      });
      await postAgentEvents(w.t.app, 'victim', [turn('customer', 'hi', w.t.clock.now)], { headers: w.t.ws.headers });
      const res = await post(w, 'victim', action, body);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
      expect(w.lk.deleted).toEqual([]);
      expect(w.lk.transfers).toEqual([]);
      expect(w.lk.participant('victim', AGENT)?.tracks.every((t) => !t.muted)).toBe(true);
      expect(w.lk.room('victim')).toBeDefined();
    },
  );

  it.each(CONTROL)('%s on a call LiveKit does not know at all: 404', async (action, body) => {
    w = await wired();
    await postAgentEvents(w.t.app, 'nowhere', [turn('customer', 'hi', w.t.clock.now)], { headers: w.t.ws.headers });
    const res = await post(w, 'nowhere', action, body);
    expect(res.statusCode).toBe(404);
    expect(w.lk.deleted).toEqual([]);
  });

  it('an owned call whose room name LiveKit now gives to another room (another sid) is a 404', async () => {
    w = await wired();
    await startCall(w, 'moved');
    // LiveKit's room_finished and the new room's webhooks are lost
    withoutWebhooks(w, (x) => {
      x.lk.deleteRoom('moved');
      x.lk.addRoom({ name: 'moved', metadata: { workspaceId: x.t.ws.id } });
    });
    for (const [action, body] of CONTROL) expect((await post(w, 'moved', action, body)).statusCode).toBe(404);
    expect(w.lk.deleted).toEqual(['moved']);
  });

  it('an unverified call whose room LiveKit confirms becomes owned on the spot, and the action goes through', async () => {
    w = await wired();
    withoutWebhooks(w, (x) => {
      x.lk.addRoom({ name: 'mine', metadata: { workspaceId: x.t.ws.id } });
    });
    await postAgentEvents(w.t.app, 'mine', [turn('customer', 'hi', w.t.clock.now)], { headers: w.t.ws.headers });
    expect((await post(w, 'mine', 'end-call')).statusCode).toBe(200);
    expect(w.lk.deleted).toEqual(['mine']);
    expect(await recordOf(w, w.t.ws, 'mine')).toMatchObject({ ownership: 'owned', status: 'ended' });
  });
});

describe('signed agent requests are bound to one room', () => {
  it('a token without a room grant is a 401 that says what to add', async () => {
    w = await wired();
    const res = await postAgentEvents(w.t.app, 'r', [turn('agent', 'x', w.t.clock.now)], { signedFor: w.t.ws.id, room: null });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toMatch(/addGrant\(\{ room/);
    expect(await roomsOf(w, w.t.ws)).toEqual([]);
  });

  it('a token for one room replayed to another room is refused, and nothing is stored', async () => {
    w = await wired();
    const res = await postAgentEvents(w.t.app, 'room-y', [turn('agent', 'x', w.t.clock.now)], { signedFor: w.t.ws.id, room: 'room-x' });
    expect(res.statusCode).toBe(403);
    expect(await roomsOf(w, w.t.ws)).toEqual([]);
  });

  it('goes to the workspace LiveKit bound the room to, whatever x-workspace-id says', async () => {
    w = await wired();
    const b = await w.t.newWorkspace('b');
    await startCall(w, 'bound', { ws: b });
    const noHeader = await postAgentEvents(w.t.app, 'bound', [turn('agent', 'to B', w.t.clock.now)], { signedFor: undefined });
    expect(noHeader.statusCode).toBe(202);
    expect((await get(w, '/v2/api/active-calls/bound', b)).json().transcript).toEqual([{ role: 'agent', content: 'to B' }]);
    const lying = await postAgentEvents(w.t.app, 'bound', [turn('agent', 'to A?', w.t.clock.now)], { signedFor: w.t.ws.id });
    expect(lying.statusCode).toBe(403);
    expect(await roomsOf(w, w.t.ws)).toEqual([]);
    expect((await get(w, '/v2/api/active-calls/bound', b)).json().transcript).toHaveLength(1);
  });

  it('before LiveKit has bound the room, ListRooms decides; without it, x-workspace-id names an unverified call', async () => {
    w = await wired();
    withoutWebhooks(w, (x) => {
      x.lk.addRoom({ name: 'listed', metadata: { workspaceId: x.t.ws.id } });
    });
    const listed = await postAgentEvents(w.t.app, 'listed', [turn('agent', 'hi', w.t.clock.now)], { signedFor: undefined });
    expect(listed.statusCode).toBe(202);
    expect(await recordOf(w, w.t.ws, 'listed')).toMatchObject({ ownership: 'owned' });

    const unknown = await postAgentEvents(w.t.app, 'unlisted', [turn('agent', 'hi', w.t.clock.now)], { signedFor: undefined });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.field).toBe('headers.x-workspace-id');
    const named = await postAgentEvents(w.t.app, 'unlisted', [turn('agent', 'hi', w.t.clock.now)], { signedFor: w.t.ws.id });
    expect(named.statusCode).toBe(202);
    expect(await recordOf(w, w.t.ws, 'unlisted')).toMatchObject({ ownership: 'unverified' });
  });
});

describe('several LiveKit projects, one livecalls', () => {
  const KEY2 = 'APIsecondproject';
  const SECRET2 = 'second-project-secret-0123456789abcdefgh';

  async function twoProjects(): Promise<{ c: TestWorkspace }> {
    w = await wired();
    other = await startLiveKitStandIn(KEY2, SECRET2, () => w!.t.clock.now);
    other.sink = injectSink(w.t.app);
    const c = await w.t.newWorkspace('c');
    const sealed = w.t.services.secret.seal(SECRET2, c.id);
    await w.t.services.stores.tenants.setLiveKit(c.id, { url: other.url, apiKey: KEY2, secret: sealed });
    return { c };
  }

  it("verifies a webhook with its project's secret, and a project only reaches the workspaces it serves", async () => {
    const { c } = await twoProjects();
    const start = w!.t.clock.now;
    // Project 2 about its own workspace: applied.
    const r2 = room({ name: 'p2-room', workspaceId: c.id, createdAt: start });
    expect((await postWebhook(w!.t.app, webhook('room_started', r2, start), KEY2, SECRET2)).json()).toMatchObject({ status: 'applied' });
    expect(await roomsOf(w!, c)).toEqual(['p2-room']);
    // Project 2 naming a workspace of the default project: ignored.
    const intoA = room({ name: 'p2-into-a', workspaceId: w!.t.ws.id, createdAt: start });
    expect((await postWebhook(w!.t.app, webhook('room_started', intoA, start), KEY2, SECRET2)).json()).toMatchObject({
      status: 'ignored',
      reason: 'unknown_workspace',
    });
    // The default project naming project 2's workspace: ignored.
    const intoC = room({ name: 'p1-into-c', workspaceId: c.id, createdAt: start });
    expect((await postWebhook(w!.t.app, webhook('room_started', intoC, start), LK_KEY, LK_SECRET)).json()).toMatchObject({
      status: 'ignored',
    });
    expect(await roomsOf(w!, w!.t.ws)).toEqual([]);
    expect(await roomsOf(w!, c)).toEqual(['p2-room']);
    // Signed with project 2's key but the wrong secret: 401.
    expect((await postWebhook(w!.t.app, webhook('room_started', r2, start), KEY2, LK_SECRET)).statusCode).toBe(401);
  });

  it('a room sid another project names never decides where a metadata-less webhook of this project goes', async () => {
    const { c } = await twoProjects();
    const a = w!.t.ws;
    const start = w!.t.clock.now;
    // Project 2 names a room with A's coming room's name and sid, for its own workspace: its own call, nothing more.
    const squat = room({ name: 'shared-name', sid: 'RM_victim', workspaceId: c.id, createdAt: start });
    expect((await postWebhook(w!.t.app, webhook('room_started', squat, start), KEY2, SECRET2)).json()).toMatchObject({
      status: 'applied',
    });
    // A's room, bound through the default project by a webhook naming A.
    const victim = room({ name: 'shared-name', sid: 'RM_victim', workspaceId: a.id, createdAt: start + 1_000 });
    expect((await postWebhook(w!.t.app, webhook('room_started', victim, start + 1_000))).json()).toMatchObject({ status: 'applied' });
    // The default project's next webhook for A's room carries no metadata: it is A's, as the default project bound it.
    const bare = room({ name: 'shared-name', sid: 'RM_victim', workspaceId: a.id, createdAt: start + 1_000, metadata: '' });
    const caller = participant('victim-caller', 'sip', start + 2_000, { phone: '+15559998888' });
    expect((await postWebhook(w!.t.app, webhook('participant_joined', bare, start + 2_000, caller))).json()).toMatchObject({
      status: 'applied',
    });
    const identities = async (ws: TestWorkspace) =>
      ((await get(w!, '/v2/api/active-calls/shared-name', ws)).json().participants ?? []).map((p: { identity: string }) => p.identity);
    expect(await identities(a)).toContain('victim-caller');
    expect(await identities(c)).not.toContain('victim-caller');
    // And its room_finished ends A's call, not C's.
    expect((await postWebhook(w!.t.app, webhook('room_finished', bare, start + 3_000))).json()).toMatchObject({ status: 'applied' });
    expect(await roomsOf(w!, a)).toEqual([]);
    expect(await roomsOf(w!, c)).toEqual(['shared-name']);
  });

  it("controls a workspace's calls through its own project", async () => {
    const { c } = await twoProjects();
    other!.addRoom({ name: 'c-call', metadata: { workspaceId: c.id } });
    other!.addParticipant('c-call', { identity: AGENT, kind: 'agent', tracks: ['TR_a'] });
    await other!.webhooksDelivered();
    expect(await roomsOf(w!, c)).toEqual(['c-call']);
    const res = await post(w!, 'c-call', 'end-call', undefined, c.headers);
    expect(res.statusCode).toBe(200);
    expect(other!.deleted).toEqual(['c-call']);
    expect(w!.lk.deleted).toEqual([]);
  });

  it('lists workspaces with their project, never the secret; the stored secret is sealed', async () => {
    const { c } = await twoProjects();
    const listed = await w!.t.services.stores.tenants.listWorkspaces();
    expect(listed.find((x) => x.id === c.id)?.livekit).toEqual({ url: other!.url, apiKey: KEY2 });
    expect(JSON.stringify(listed)).not.toContain(SECRET2);
    const stored = await w!.t.services.stores.tenants.getLiveKit(c.id);
    expect(stored?.secret).not.toContain(SECRET2);
    expect(w!.t.services.secret.open(stored!.secret, c.id)).toBe(SECRET2);
    expect(() => w!.t.services.secret.open(stored!.secret, w!.t.ws.id)).toThrow();
  });
});

describe('stream tokens', () => {
  it('are signed with the server secret: a token keyed by the stored API-key hash is refused', async () => {
    w = await wired();
    const key = await w.t.services.stores.tenants.getKey(w.t.ws.keyId);
    const exp = Math.floor(w.t.clock.now / 1000) + 300;
    const mac = createHmac('sha256', key!.hash).update(`livecalls-stream\n${key!.id}\n${w.t.ws.id}\n${exp}`).digest('base64url');
    const forged = `lcst_${key!.id}.${exp}.${mac}`;
    const res = await w.t.app.inject({ url: `/v2/api/active-calls/stream?token=${forged}` });
    expect(res.statusCode).toBe(401);
    const issued = await w.t.app.inject({ method: 'POST', url: '/v2/api/stream-tokens', headers: w.t.ws.headers });
    expect(issued.statusCode).toBe(201);
    expect(issued.json().token).not.toBe(forged);
  });
});
