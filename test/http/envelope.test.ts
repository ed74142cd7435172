/**
 * Every response of the API uses one error envelope with the request id, including the errors Fastify and
 * Node raise before a route runs. Raw HTTP over a real socket: inject() cannot send malformed requests.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await createTestApp({ LIVECALLS_RATE_LIMIT: '0' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await t.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function raw(request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

const auth = () => `x-api-key: ${t.ws.apiKey}\r\nx-workspace-id: ${t.ws.id}\r\n`;
const get = (path: string, extra = '') => raw(`GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);

function expectEnvelope(res: RawResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  const body = JSON.parse(res.body) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.requestId).toBeTruthy();
  expect(res.headers['x-request-id']).toBe(body.error.requestId);
}

describe('the error envelope, before any route runs', () => {
  it('a malformed percent-encoding is a 400', async () => {
    expectEnvelope(await get('/v2/api/active-calls/%E0%A4%A', auth()), 400, 'invalid_request');
  });

  it('a too-long room name is a 414', async () => {
    expectEnvelope(await get(`/v2/api/active-calls/${'a'.repeat(300)}`, auth()), 414, 'uri_too_long');
  });

  it('headers too large are a 431, and HTTP Node cannot parse is a 400', async () => {
    expectEnvelope(await get('/healthz', `x-big: ${'a'.repeat(20_000)}\r\n`), 431, 'header_fields_too_large');
    expectEnvelope(await raw('GARBAGE\r\n\r\n'), 400, 'invalid_request');
  });

  it('an HTTP/1.1 request without Host is a 400 naming the header', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectEnvelope(res, 400, 'invalid_request');
    expect(JSON.parse(res.body).error.field).toBe('headers.host');
  });

  it('a plain GET of the WebSocket route is a 426', async () => {
    const res = await get('/v2/api/active-calls/ws', auth());
    expectEnvelope(res, 426, 'upgrade_required');
    expect(res.headers.upgrade).toBe('websocket');
  });

  it('a wrong method is a 405 with Allow; an unknown path a 404', async () => {
    const res = await raw(`DELETE /v2/api/active-calls HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`);
    expectEnvelope(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD');
    expectEnvelope(await get('/nope'), 404, 'not_found');
  });

  it('text/plain is a 415 naming application/json', async () => {
    const res = await raw(
      `POST /v2/api/active-calls/r1/events HTTP/1.1\r\nHost: x\r\n${auth()}content-type: text/plain\r\ncontent-length: 2\r\nConnection: close\r\n\r\nhi`,
    );
    expectEnvelope(res, 415, 'unsupported_media_type');
    expect(JSON.parse(res.body).error.message).toContain('application/json');
  });

  it('a trailing slash on the list is the list; every response carries x-request-id', async () => {
    const res = await get('/v2/api/active-calls/', auth());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ data: [], count: 0 });
    expect(res.headers['x-request-id']).toBeTruthy();
  });
});
