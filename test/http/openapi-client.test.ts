/**
 * A client generated from /openapi.json (openapi-typescript) types every route as the API answers: the
 * generated types compile with a client that uses them rightly, and refuse one that uses them wrongly (so
 * they are not `any`). Runs the TypeScript compiler on generated code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(path.join(tmpdir(), 'livecalls-client-'));
  const doc = (await t.app.inject({ url: '/openapi.json' })).json();
  writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(doc)));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

function compile(source: string): string[] {
  const file = path.join(dir, `use-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const GOOD = `
import type { paths } from './api';
type List = paths['/v2/api/active-calls']['get']['responses'][200]['content']['application/json'];
const list: List = { data: [], count: 0, timestamp: '2026-12-01T00:00:00.000Z' };
const item: List['data'][number] = {
  id: 'x', roomName: 'r', customerPhone: '', customerName: '', aiAgentName: '', duration: 3, status: 'active',
  sentiment: 'neutral', lastMessage: '', transferRequested: false, type: 'phone', participants: [],
};
type Events = paths['/v2/api/active-calls/{roomName}/events']['post'];
const body: NonNullable<Events['requestBody']>['content']['application/json'] = {
  roomSid: 'RM_1', events: [{ id: 'turn-1', createdAt: 1764547200000, type: 'transcript', role: 'customer', content: 'hi' }],
};
const accepted: Events['responses'][202]['content']['application/json'] = { applied: 1, duplicates: 0 };
type EndCall = paths['/v2/api/active-calls/{roomName}/end-call']['post']['responses'];
const ended: EndCall[200]['content']['application/json'] = { success: true, message: 'ok', roomName: 'r', endTime: 'now' };
const notFound: EndCall[404]['content']['application/json']['error']['code'] = 'not_found';
type Ready = paths['/readyz']['get']['responses'];
const ready: Ready[200]['content']['application/json'] = { status: 'ready' };
type Hook = paths['/webhooks/livekit']['post']['responses'][200]['content']['application/json'];
const hook: Hook = { ok: true, status: 'ignored', reason: 'unknown_workspace' };
export { list, item, body, accepted, ended, notFound, ready, hook };
`;

describe('a generated client', () => {
  it('types every route: a right use compiles', () => {
    expect(compile(GOOD)).toEqual([]);
  });

  it('and a wrong use does not (the types are not any)', () => {
    const wrong = [
      // a list item without its sentiment, and a count as text
      `import type { paths } from './api'; type L = paths['/v2/api/active-calls']['get']['responses'][200]['content']['application/json']; export const l: L = { data: [], count: '1', timestamp: '' };`,
      // an event type the API does not know
      `import type { paths } from './api'; type B = NonNullable<paths['/v2/api/active-calls/{roomName}/events']['post']['requestBody']>['content']['application/json']; export const b: B = { events: [{ id: 'a', createdAt: 1, type: 'shout', content: 'x' }] };`,
      // an error code the API never sends
      `import type { paths } from './api'; export const c: paths['/v2/api/calls/{id}']['get']['responses'][404]['content']['application/json']['error']['code'] = 'oops';`,
    ];
    for (const source of wrong) expect(compile(source).length, source).toBeGreaterThan(0);
  });

  it('documents the operations routes, the WebSocket route, and one credential for the API key', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    for (const p of ['/healthz', '/readyz', '/metrics', '/v2/api/active-calls/ws']) expect(doc.paths[p], p).toBeDefined();
    expect(doc.paths['/webhooks/livekit'].post.security).toEqual([{ livekit: [] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const text = JSON.stringify(doc);
    expect(text).not.toContain('Default Response');
    expect(text).not.toContain(String(-Number.MAX_SAFE_INTEGER));
  });
});
