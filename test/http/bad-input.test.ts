/** Bad input never crashes or 5xxs: every refusal is the error envelope with the right status and field. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, turn } from '../helpers/livekit.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ LIVECALLS_BODY_LIMIT: '16384', LIVECALLS_RATE_LIMIT: '0' });
});
afterAll(async () => {
  await t.close();
});

const events = (payload: string, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/v2/api/active-calls/call-1/events',
    headers: { 'content-type': 'application/json', ...t.ws.headers, ...headers },
    payload,
  });

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string, field?: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string; field?: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  if (field) expect(body.error.field).toBe(field);
}

describe('agent events input', () => {
  it('invalid JSON is a 400 invalid_json', async () => {
    expectError(await events('{"events": [}'), 400, 'invalid_json');
  });

  it('an oversized body is a 413', async () => {
    const big = JSON.stringify({ events: [turn('agent', 'x'.repeat(20_000), Date.now())] });
    expectError(await events(big), 413, 'payload_too_large');
  });

  it('a non-JSON content type is a 415', async () => {
    expectError(await events('events=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });

  it('an unknown event type names the field', async () => {
    const res = await events(JSON.stringify({ events: [{ id: 'e1', createdAt: Date.now(), type: 'dance' }] }));
    expectError(res, 400, 'invalid_request', 'body.events.0.type');
  });

  it('an empty batch, and more than 100 events, are refused', async () => {
    expectError(await events(JSON.stringify({ events: [] })), 400, 'invalid_request', 'body.events');
    const many = Array.from({ length: 101 }, (_, i) => turn('agent', 'hi', Date.now(), `m${i}`));
    expectError(await events(JSON.stringify({ events: many })), 400, 'invalid_request', 'body.events');
  });

  it('createdAt in seconds, a bad role, a bad phone and an unknown field name the field', async () => {
    expectError(
      await events(JSON.stringify({ events: [turn('agent', 'hi', 1_700_000_000)] })),
      400,
      'invalid_request',
      'body.events.0.createdAt',
    );
    expectError(
      await events(JSON.stringify({ events: [{ ...turn('agent', 'hi', Date.now()), role: 'robot' }] })),
      400,
      'invalid_request',
      'body.events.0.role',
    );
    expectError(
      await events(JSON.stringify({ events: [{ id: 'c', createdAt: Date.now(), type: 'customer_info', phone: '555-1234' }] })),
      400,
      'invalid_request',
      'body.events.0.phone',
    );
    expectError(await events(JSON.stringify({ events: [{ ...turn('agent', 'hi', Date.now()), extra: 1 }] })), 400, 'invalid_request');
  });

  it('nothing was applied by any refused request', async () => {
    const res = await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers });
    expect(res.json().count).toBe(0);
  });
});

describe('hostile room names', () => {
  const hostile = ['..', '%2e%2e%2f..%2fetc', 'a%20b', 'x'.repeat(129), '%00', 'caf%C3%A9', '%3Cscript%3E', "a'--"];
  for (const name of hostile) {
    it(`refuses ${name.slice(0, 20)} with a 400 naming the room`, async () => {
      for (const path of [`/v2/api/active-calls/${name}`, `/v2/api/active-calls/${name}/insights`]) {
        const res = await t.app.inject({ url: path, headers: t.ws.headers });
        expect(res.statusCode, path).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, path).toBeLessThan(500);
        expect(res.json().error).toBeDefined();
      }
      const res = await t.app.inject({ url: `/v2/api/active-calls/${name}`, headers: t.ws.headers });
      if (res.statusCode === 400) expect(res.json().error.field).toBe('params.roomName');
    });
  }

  it('agent events for a hostile room are refused too', async () => {
    const res = await postAgentEvents(t.app, '../../x', [turn('agent', 'hi', Date.now())], { headers: t.ws.headers });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  });
});

describe('authentication', () => {
  it('401 without a key, 401 with an unknown key, 400 without a workspace, 403 with the wrong workspace', async () => {
    expectError(await t.app.inject({ url: '/v2/api/active-calls' }), 401, 'unauthorized');
    expectError(
      await t.app.inject({
        url: '/v2/api/active-calls',
        headers: { 'x-api-key': `lc_${'0'.repeat(16)}_${'0'.repeat(64)}`, 'x-workspace-id': t.ws.id },
      }),
      401,
      'unauthorized',
    );
    expectError(await t.app.inject({ url: '/v2/api/active-calls', headers: { 'x-api-key': 'garbage' } }), 401, 'unauthorized');
    expectError(
      await t.app.inject({ url: '/v2/api/active-calls', headers: { 'x-api-key': t.ws.apiKey } }),
      400,
      'invalid_request',
      'headers.x-workspace-id',
    );
    const other = await t.newWorkspace('other');
    expectError(
      await t.app.inject({ url: '/v2/api/active-calls', headers: { 'x-api-key': t.ws.apiKey, 'x-workspace-id': other.id } }),
      403,
      'forbidden',
    );
  });

  it('a revoked key is refused at once', async () => {
    const extra = await t.services.stores.tenants.createKey(t.ws.id, Date.now());
    const headers = { 'x-api-key': extra.apiKey, 'x-workspace-id': t.ws.id };
    expect((await t.app.inject({ url: '/v2/api/active-calls', headers })).statusCode).toBe(200);
    await t.services.stores.tenants.revokeKey(extra.key.id, Date.now());
    expectError(await t.app.inject({ url: '/v2/api/active-calls', headers }), 401, 'unauthorized');
  });

  it('agent events refuse a missing or bad signature', async () => {
    const payload = JSON.stringify({ events: [turn('agent', 'hi', Date.now())] });
    const base = { method: 'POST' as const, url: '/v2/api/active-calls/call-1/events', payload };
    expectError(
      await t.app.inject({ ...base, headers: { 'content-type': 'application/json', 'x-workspace-id': t.ws.id } }),
      401,
      'unauthorized',
    );
    expectError(
      await t.app.inject({
        ...base,
        headers: { 'content-type': 'application/json', 'x-workspace-id': t.ws.id, authorization: 'not-a-jwt' },
      }),
      401,
      'unauthorized',
    );
  });

  it('unknown routes are a 404 envelope', async () => {
    expectError(await t.app.inject({ url: '/v2/api/nothing-here', headers: t.ws.headers }), 404, 'not_found');
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After and reset_at past the limit', async () => {
    const limited = await createTestApp({ LIVECALLS_RATE_LIMIT: '3' });
    try {
      for (let i = 0; i < 3; i++)
        expect((await limited.app.inject({ url: '/v2/api/active-calls', headers: limited.ws.headers })).statusCode).toBe(200);
      const res = await limited.app.inject({ url: '/v2/api/active-calls', headers: limited.ws.headers });
      expectError(res, 429, 'rate_limit_exceeded');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(new Date(res.json().error.reset_at).getTime()).toBeGreaterThan(Date.now());
      // Another workspace's key has its own budget.
      const other = await limited.newWorkspace('other');
      expect((await limited.app.inject({ url: '/v2/api/active-calls', headers: other.headers })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
