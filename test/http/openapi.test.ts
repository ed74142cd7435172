/** /openapi.json is generated from the same zod schemas that validate requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('OpenAPI and health', () => {
  it('documents every API route with its request and response schemas', async () => {
    const res = await t.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v2/api/active-calls',
      '/v2/api/active-calls/{roomName}',
      '/v2/api/active-calls/{roomName}/insights',
      '/v2/api/active-calls/{roomName}/end-call',
      '/v2/api/active-calls/{roomName}/events',
      '/v2/api/calls/{id}',
      '/v2/api/alert-rules',
      '/v2/api/prices',
      '/webhooks/livekit',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const list = doc.paths['/v2/api/active-calls'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(list.properties.data.items.properties).sort()).toContain('transferRequested');
    const room = doc.paths['/v2/api/active-calls/{roomName}'].get.parameters.find((p: { name: string }) => p.name === 'roomName');
    expect(room.schema.pattern).toBeDefined();
    const events = doc.paths['/v2/api/active-calls/{roomName}/events'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(events)).toContain('transfer_requested');
    for (const type of ['agent_state', 'customer_state', 'false_interruption', 'tools_executed', 'usage', 'agent_error', 'session_closed'])
      expect(JSON.stringify(events), type).toContain(type);
    const call = doc.paths['/v2/api/calls/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(call.properties)).toEqual(expect.arrayContaining(['agentState', 'latency', 'usage', 'alerts']));
    expect(doc.paths['/v2/api/alert-rules'].put.responses['409']).toBeDefined();
    expect(doc.paths['/v2/api/active-calls/{roomName}/end-call'].post.responses['503']).toBeDefined();
  });

  it('serves human docs, liveness and readiness', async () => {
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('readiness fails when the store is gone', async () => {
    const dead = await createTestApp();
    await dead.services.stores.close();
    const res = await dead.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    await dead.close();
  });
});
