/**
 * Bad input on the webhook endpoint routes: a clear 400 naming the field, https only and public addresses
 * only unless allowed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function app(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp(env);
  apps.push(t);
  return t;
}

function create(t: TestApp, payload: unknown) {
  return t.app.inject({ method: 'POST', url: '/v2/api/webhooks', headers: t.ws.headers, payload: payload as object });
}

describe('POST /v2/api/webhooks refuses bad input', () => {
  it.each([
    ['no url', { events: ['call.ended'] }, 'body.url'],
    ['not a URL', { url: 'hooks.example.com/x', events: ['call.ended'] }, 'body.url'],
    ['another scheme', { url: 'ftp://hooks.example.com/x', events: ['call.ended'] }, 'body.url'],
    ['a URL over 2048 chars', { url: `https://hooks.example.com/${'a'.repeat(2048)}`, events: ['call.ended'] }, 'body.url'],
    ['no events', { url: 'https://hooks.example.com/x' }, 'body.events'],
    ['an empty event list', { url: 'https://hooks.example.com/x', events: [] }, 'body.events'],
    ['an unknown event type', { url: 'https://hooks.example.com/x', events: ['call.ended', 'call.exploded'] }, 'body.events.1'],
    ['events not a list', { url: 'https://hooks.example.com/x', events: 'call.ended' }, 'body.events'],
    [
      'a description over 500 chars',
      { url: 'https://hooks.example.com/x', events: ['call.ended'], description: 'd'.repeat(501) },
      'body.description',
    ],
    ['an unknown field', { url: 'https://hooks.example.com/x', events: ['call.ended'], secret: 'mine' }, 'body'],
  ])('%s -> 400 naming %s', async (_name, payload, field) => {
    const t = await app();
    const res = await create(t, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_request', field });
    expect(res.json().error.message).toContain(field);
    expect((await t.app.inject({ url: '/v2/api/webhooks', headers: t.ws.headers })).json().data).toEqual([]);
  });

  it('refuses http:// unless LIVECALLS_WEBHOOKS_ALLOW_HTTP is set', async () => {
    const strict = await app();
    const refused = await create(strict, { url: 'http://127.0.0.1:9/x', events: ['call.ended'] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({ field: 'body.url', message: 'body.url: url must be an https:// URL' });
    const relaxed = await app({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true' });
    expect((await create(relaxed, { url: 'http://hooks.example.com/x', events: ['call.ended'] })).statusCode).toBe(201);
  });

  it.each([
    ['http://127.0.0.1:6443/x', '127.0.0.1'],
    ['https://10.0.0.5/x', '10.0.0.5'],
    ['https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['https://100.64.0.7/x', '100.64.0.7'],
    ['https://192.168.1.1/x', '192.168.1.1'],
    ['https://0.0.0.0/x', '0.0.0.0'],
    ['https://[::1]:6443/x', '::1'],
    ['https://[fd00::5]/x', 'fd00::5'],
    ['https://[::ffff:10.0.0.5]/x', '::ffff:a00:5'],
    ['https://2130706433/x', '127.0.0.1'],
  ])('refuses %s (not a public address) unless LIVECALLS_WEBHOOKS_ALLOW_PRIVATE is set', async (url, address) => {
    const strict = await app({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true' });
    const refused = await create(strict, { url, events: ['call.ended'] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toEqual({
      code: 'invalid_request',
      field: 'body.url',
      message: `body.url: url must point at a public address; ${address} is not one`,
      requestId: refused.headers['x-request-id'],
    });
    expect((await strict.app.inject({ url: '/v2/api/webhooks', headers: strict.ws.headers })).json().data).toEqual([]);
    const relaxed = await app({ LIVECALLS_WEBHOOKS_ALLOW_HTTP: 'true', LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: 'true' });
    expect((await create(relaxed, { url, events: ['call.ended'] })).statusCode).toBe(201);
  });

  it('accepts a public address and any name: a name is judged when a delivery connects', async () => {
    const strict = await app();
    for (const url of [
      'https://93.184.216.34/x',
      'https://[2606:4700::1111]/x',
      'https://localhost:6443/x',
      'https://hooks.example.com/x',
    ]) {
      expect((await create(strict, { url, events: ['call.ended'] })).statusCode).toBe(201);
    }
  });

  it('refuses malformed JSON, a missing API key, and more endpoints than a workspace may have', async () => {
    const t = await app();
    const badJson = await t.app.inject({
      method: 'POST',
      url: '/v2/api/webhooks',
      headers: { ...t.ws.headers, 'content-type': 'application/json' },
      payload: '{"url": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('invalid_json');
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/v2/api/webhooks',
      payload: { url: 'https://a.example/x', events: ['call.ended'] },
    });
    expect(anonymous.statusCode).toBe(401);
    for (let i = 0; i < 20; i++) expect((await create(t, { url: `https://a.example/${i}`, events: ['call.ended'] })).statusCode).toBe(201);
    const over = await create(t, { url: 'https://a.example/21', events: ['call.ended'] });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('conflict');
  });
});

describe('endpoint id and delivery log query', () => {
  it('a malformed id or limit is a 400 naming it; a well-formed unknown id is a 404', async () => {
    const t = await app();
    const malformed = await t.app.inject({ url: '/v2/api/webhooks/nope', headers: t.ws.headers });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.field).toBe('params.id');
    expect((await t.app.inject({ method: 'DELETE', url: '/v2/api/webhooks/nope', headers: t.ws.headers })).statusCode).toBe(400);
    expect((await t.app.inject({ url: '/v2/api/webhooks/ep_0123456789abcdef', headers: t.ws.headers })).statusCode).toBe(404);
    const created = (await create(t, { url: 'https://a.example/x', events: ['call.ended'] })).json();
    for (const limit of ['0', '101', 'ten', '1.5']) {
      const res = await t.app.inject({ url: `/v2/api/webhooks/${created.id}/deliveries?limit=${limit}`, headers: t.ws.headers });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toBe('querystring.limit');
    }
    const ok = await t.app.inject({ url: `/v2/api/webhooks/${created.id}/deliveries?limit=5`, headers: t.ws.headers });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ data: [] });
  });
});
