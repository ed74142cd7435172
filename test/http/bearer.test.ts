/** The API key alone, as `Authorization: Bearer <key>`: it names its workspace, and nothing more. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, turn } from '../helpers/livekit.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const bearer = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });

describe('Authorization: Bearer <API key>', () => {
  it("reads the key's own workspace, and only it", async () => {
    t = await createTestApp();
    const other = await t.newWorkspace('other');
    await postAgentEvents(t.app, 'room-a', [turn('customer', 'hello', t.clock.now)], { headers: t.ws.headers });
    const mine = await t.app.inject({ url: '/v2/api/active-calls', headers: bearer(t.ws.apiKey) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().data.map((c: { roomName: string }) => c.roomName)).toEqual(['room-a']);
    // Another workspace's key sees none of it, by list or by name.
    expect((await t.app.inject({ url: '/v2/api/active-calls', headers: bearer(other.apiKey) })).json().data).toEqual([]);
    expect((await t.app.inject({ url: '/v2/api/active-calls/room-a', headers: bearer(other.apiKey) })).statusCode).toBe(404);
    // A workspace header beside it must agree.
    const mismatch = await t.app.inject({ url: '/v2/api/active-calls', headers: bearer(other.apiKey, { 'x-workspace-id': t.ws.id }) });
    expect(mismatch.statusCode).toBe(403);
    expect(
      (await t.app.inject({ url: '/v2/api/active-calls', headers: bearer(t.ws.apiKey, { 'x-workspace-id': t.ws.id }) })).statusCode,
    ).toBe(200);
  });

  it('refuses unknown, malformed and revoked keys, and agent events take it too', async () => {
    t = await createTestApp();
    expect((await t.app.inject({ url: '/v2/api/active-calls', headers: bearer('lc_nope_00') })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/v2/api/active-calls', headers: { authorization: 'Bearer eyJhbGciOi.x.y' } })).statusCode).toBe(401);
    const sent = await postAgentEvents(t.app, 'room-b', [turn('agent', 'hi', t.clock.now)], { headers: bearer(t.ws.apiKey) });
    expect(sent.statusCode).toBe(202);
    await t.services.stores.tenants.revokeKey(t.ws.keyId, t.clock.now);
    const revoked = await t.app.inject({ url: '/v2/api/active-calls', headers: bearer(t.ws.apiKey) });
    expect(revoked.statusCode).toBe(401);
  });
});
