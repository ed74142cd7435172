/**
 * Alert rules through the API on every backend: validation (400 naming the field), versions (409 on a stale
 * one), per-workspace isolation, and alerts firing once and clearing through the ingest path: in details, on
 * the live feed as `call.alert`, and, for time-based rules, from the periodic evaluator, once even when two
 * instances evaluate the same store.
 */
import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertEvaluator } from '../../src/alerts/evaluator.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { tempDir, type TestWorkspace } from '../helpers/app.ts';
import { createDatabase, dropRedisPrefix, pgReachable, randomName, REDIS_URL, redisReachable, TEST_SECRET } from '../helpers/backends.ts';
import { postAgentEvents } from '../helpers/livekit.ts';
import type { FastifyInstance } from 'fastify';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);
const BACKENDS = ['embedded', ...(redisUp && pgUp ? ['Redis + PostgreSQL'] : [])] as const;

interface World {
  app: FastifyInstance;
  services: Services;
  clock: { now: number };
  a: TestWorkspace;
  b: TestWorkspace;
  close(): Promise<void>;
}

async function openWorld(backend: (typeof BACKENDS)[number]): Promise<World> {
  const dataDir = tempDir('livecalls-alerts-');
  const prefix = randomName('lcalert');
  const db = backend === 'embedded' ? undefined : await createDatabase();
  const clock = { now: Date.UTC(2026, 10, 24, 10, 0, 0) };
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dataDir,
    LIVECALLS_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
    ...(db ? { REDIS_URL, LIVECALLS_REDIS_PREFIX: prefix, DATABASE_URL: db.url, LIVECALLS_SECRET: TEST_SECRET } : {}),
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, { clock: () => clock.now, log, ...(db ? { stores: await openStores(config, log) } : {}) });
  const app = await buildApp(services);
  await app.ready();
  const workspace = async (name: string): Promise<TestWorkspace> => {
    const ws = await services.stores.tenants.createWorkspace(name, clock.now);
    const { key, apiKey } = await services.stores.tenants.createKey(ws.id, clock.now);
    return { id: ws.id, apiKey, keyId: key.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
  };
  const a = await workspace('a');
  const b = await workspace('b');
  return {
    app,
    services,
    clock,
    a,
    b,
    async close() {
      await app.close();
      await services.close();
      if (db) {
        await dropRedisPrefix(prefix);
        await db.drop();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(BACKENDS)('alert rules (%s)', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld(backend);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  const put = (ws: TestWorkspace, payload: unknown) =>
    w.app.inject({ method: 'PUT', url: '/v2/api/alert-rules', headers: ws.headers, payload: payload as object });
  const get = (ws: TestWorkspace) => w.app.inject({ url: '/v2/api/alert-rules', headers: ws.headers });
  const events = (ws: TestWorkspace, room: string, list: Record<string, unknown>[]) =>
    postAgentEvents(w.app, room, list as never, { headers: ws.headers });
  async function record(ws: TestWorkspace, room: string) {
    const call = await w.services.stores.calls.getActive(ws.id, room);
    if (!call) throw new Error(`no active call in ${room}`);
    return (await w.app.inject({ url: `/v2/api/calls/${call.id}`, headers: ws.headers })).json();
  }

  it('validates rules, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ rules: [{ id: 'x', kind: 'dead_air', seconds: 0 }] }, 'body.rules.0.seconds'],
      [{ rules: [{ id: 'x', kind: 'loud_noise' }] }, 'body.rules.0.kind'],
      [{ rules: [{ id: 'x', kind: 'phrase', side: 'agent' }] }, 'body.rules.0.text'],
      [{ rules: [{ id: 'x', kind: 'phrase', side: 'agent', pattern: '(a+' }] }, 'body.rules.0.pattern'],
      [{ rules: [{ id: 'x', kind: 'phrase', side: 'agent', pattern: '(?=a)b' }] }, 'body.rules.0.pattern'],
      [{ rules: [{ id: 'x', kind: 'human_requested', extra: 1 }] }, 'body.rules.0'],
      [
        {
          rules: [
            { id: 'x', kind: 'human_requested' },
            { id: 'x', kind: 'long_call', seconds: 60 },
          ],
        },
        'body.rules.1.id',
      ],
      [{ rules: [{ id: 'bad id', kind: 'human_requested' }] }, 'body.rules.0.id'],
    ];
    for (const [payload, field] of cases) {
      const res = await put(w.a, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.field, JSON.stringify(payload)).toBe(field);
    }
  });

  it('versions: each save adds one, a stale version is 409, and workspaces do not see each other', async () => {
    expect((await get(w.b)).json()).toEqual({ version: 0, rules: [] });
    const first = await put(w.b, { version: 0, rules: [{ id: 'long', kind: 'long_call', seconds: 600 }] });
    expect(first.json()).toEqual({ version: 1, rules: [{ id: 'long', kind: 'long_call', seconds: 600, enabled: true }] });
    expect((await put(w.b, { version: 0, rules: [] })).statusCode).toBe(409);
    const second = await put(w.b, { version: 1, rules: [{ id: 'err', kind: 'agent_error', count: 2, enabled: false }] });
    expect(second.json().version).toBe(2);
    const stale = await put(w.b, { version: 1, rules: [] });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.field).toBe('version');
    expect((await put(w.b, { rules: [{ id: 'err', kind: 'agent_error', count: 2 }] })).json().version).toBe(3);
    expect((await get(w.b)).json()).toMatchObject({ version: 3, rules: [{ id: 'err' }] });
    // Workspace a saw none of it.
    expect((await get(w.a)).json()).toEqual({ version: 0, rules: [] });
  });

  it('event-driven rules fire once, clear, and stay in their workspace', async () => {
    const rules = [
      { id: 'slow', kind: 'latency_p95', ms: 1_000, turns: 2 },
      { id: 'refund', kind: 'phrase', side: 'customer', pattern: '\\brefund(s|ed)?\\b' },
      { id: 'human', kind: 'human_requested' },
    ];
    expect((await put(w.a, { rules })).statusCode).toBe(200);
    const t0 = w.clock.now - 60_000;
    const head = await w.services.stores.feed.head(w.a.id);
    const turn = (id: string, at: number, role: string, content: string, e2eMs?: number) => ({
      id,
      createdAt: at,
      type: 'transcript',
      role,
      content,
      ...(e2eMs ? { metrics: { e2eMs } } : {}),
    });
    await events(w.a, 'al-1', [turn('a1', t0, 'agent', 'Hello', 1_800), turn('c1', t0 + 1_000, 'customer', 'I want a refund')]);
    await events(w.a, 'al-1', [turn('a2', t0 + 2_000, 'agent', 'Sure', 1_900), turn('c2', t0 + 3_000, 'customer', 'refunds, please')]);
    // The same words in workspace b, which has other rules: nothing fires there.
    await events(w.b, 'al-1', [turn('a1', t0, 'agent', 'Hello', 1_800), turn('c1', t0 + 1_000, 'customer', 'I want a refund')]);

    let details = await record(w.a, 'al-1');
    expect(details.alerts.map((a: { ruleId: string }) => a.ruleId).sort()).toEqual(['refund', 'slow']);
    expect(details.alerts.every((a: { clearedAt: string | null }) => a.clearedAt === null)).toBe(true);
    expect((await record(w.b, 'al-1')).alerts).toEqual([]);

    // Two fast turns bring the p95 of the last two under the limit: the latency alert clears; the phrase stays.
    await events(w.a, 'al-1', [turn('a3', t0 + 4_000, 'agent', 'Done', 300), turn('a4', t0 + 5_000, 'agent', 'Anything else?', 400)]);
    details = await record(w.a, 'al-1');
    const slow = details.alerts.find((a: { ruleId: string }) => a.ruleId === 'slow');
    expect(slow.clearedAt).not.toBeNull();
    expect(details.alerts.find((a: { ruleId: string }) => a.ruleId === 'refund').clearedAt).toBeNull();

    // Slow again: a new episode, a new alert id.
    await events(w.a, 'al-1', [turn('a5', t0 + 6_000, 'agent', 'Hm', 2_000), turn('a6', t0 + 7_000, 'agent', 'Hm', 2_500)]);
    details = await record(w.a, 'al-1');
    const slows = details.alerts.filter((a: { ruleId: string }) => a.ruleId === 'slow');
    expect(slows).toHaveLength(2);
    expect(new Set(slows.map((a: { id: string }) => a.id)).size).toBe(2);

    await events(w.a, 'al-1', [turn('c3', t0 + 8_000, 'customer', 'Let me talk to a real person')]);
    details = await record(w.a, 'al-1');
    expect(details.alerts.filter((a: { ruleId: string }) => a.ruleId === 'human')).toHaveLength(1);

    // The live feed said each firing and clearing once, as call.alert frames with the list item.
    const feed = (await w.services.stores.feed.since(w.a.id, head)) ?? [];
    const alerts = feed.filter((e) => e.event === 'call.alert').map((e) => JSON.parse(e.data));
    expect(alerts.map((f) => `${f.alert.ruleId}:${f.alert.clearedAt === null ? 'fired' : 'cleared'}`)).toEqual([
      'refund:fired',
      'slow:fired',
      'slow:cleared',
      'slow:fired',
      'human:fired',
    ]);
    expect(alerts[0]).toMatchObject({ roomName: 'al-1', item: { roomName: 'al-1', status: 'active' } });
  });

  it('the periodic evaluator fires dead air once across two instances, and the agent speaking clears it', async () => {
    await put(w.a, { rules: [{ id: 'quiet', kind: 'dead_air', seconds: 10 }] });
    const t0 = w.clock.now;
    await events(w.a, 'al-2', [
      { id: 's1', createdAt: t0, type: 'agent_state', state: 'listening' },
      { id: 'c1', createdAt: t0, type: 'customer_state', state: 'listening' },
    ]);
    const evaluator = (holder: string) =>
      createAlertEvaluator({
        stores: w.services.stores,
        service: w.services.calls,
        settings: w.services.settings,
        clock: () => w.clock.now,
        everyMs: 1_000,
        log: pino({ level: 'silent' }),
        holder,
      });
    const one = evaluator('one');
    const two = evaluator('two');
    w.clock.now = t0 + 5_000;
    expect(await one.evaluate()).toBe(0);
    w.clock.now = t0 + 11_000;
    expect(await one.evaluate()).toBe(1);
    // Another instance whose lease has come (the first one's ran out) sees the alert open: nothing more.
    w.clock.now = t0 + 15_000;
    expect(await two.evaluate()).toBe(0);
    expect(await one.evaluate()).toBe(0);
    let details = await record(w.a, 'al-2');
    expect(details.alerts).toMatchObject([{ ruleId: 'quiet', kind: 'dead_air', clearedAt: null }]);

    await events(w.a, 'al-2', [{ id: 's2', createdAt: t0 + 16_000, type: 'agent_state', state: 'speaking' }]);
    details = await record(w.a, 'al-2');
    expect(details.alerts).toHaveLength(1);
    expect(details.alerts[0].clearedAt).not.toBeNull();
    // Workspace b has no such rule: its silent call raises nothing.
    await events(w.b, 'al-2', [
      { id: 's1', createdAt: t0, type: 'agent_state', state: 'listening' },
      { id: 'c1', createdAt: t0, type: 'customer_state', state: 'listening' },
    ]);
    w.clock.now = t0 + 60_000;
    await one.evaluate();
    expect((await record(w.b, 'al-2')).alerts).toEqual([]);
  });
});
