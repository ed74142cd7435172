/**
 * GET /v2/api/active-calls: filters, keyset paging and the hand-built body, fed through the real ingest
 * routes, on the embedded store and on Redis (the same assertions on both).
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { toActiveCallItem } from '../../src/domain/view.ts';
import { createServices } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { LOG_SPAN } from '../../src/store/redis/list-views.ts';
import { createTestApp, LK_KEY, LK_SECRET, tempDir, type TestApp } from '../helpers/app.ts';
import { dropRedisPrefix, randomName, redisReachable, REDIS_URL, TEST_SECRET } from '../helpers/backends.ts';
import { participant, postAgentEvents, postWebhook, room, webhook } from '../helpers/livekit.ts';
import { serviceFor } from '../helpers/service.ts';

const redisUp = await redisReachable();

/** The same app as createTestApp, with live call state in Redis under a fresh prefix. */
async function createRedisApp(): Promise<TestApp & { prefix: string }> {
  const dataDir = tempDir();
  const prefix = randomName('lclist');
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LOG_LEVEL: 'silent',
    REDIS_URL,
    LIVECALLS_SECRET: TEST_SECRET,
    LIVECALLS_REDIS_PREFIX: prefix,
  });
  const clock = {
    now: Date.UTC(2026, 10, 24, 10, 0, 0),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const services = createServices(config, { clock: () => clock.now, log: pino({ level: 'silent' }), stores: await openStores(config) });
  const app = await buildApp(services);
  await app.ready();
  const newWorkspace = async (name = 'test') => {
    const ws = await services.stores.tenants.createWorkspace(name, clock.now);
    const { key, apiKey } = await services.stores.tenants.createKey(ws.id, clock.now);
    return { id: ws.id, apiKey, keyId: key.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
  };
  return {
    app,
    services,
    clock,
    dataDir,
    prefix,
    ws: await newWorkspace('main'),
    newWorkspace,
    async close() {
      await app.close();
      await services.close();
      await dropRedisPrefix(prefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Spec {
  name: string;
  /** seconds before the test clock's now */
  age: number;
  phone?: boolean;
  agent?: string;
  say?: string;
  transfer?: boolean;
  customerName?: string;
}

interface Item {
  id: string;
  roomName: string;
  duration: number;
  sentiment: string;
  aiAgentName: string;
  type: string;
  transferRequested: boolean;
}

interface ListBody {
  data: Item[];
  count: number;
  timestamp: string;
  nextCursor?: string | null;
}

const HAPPY = 'Thanks, this is great, I love the service!';
const ANGRY = 'This is terrible, I am very angry and upset.';

const backends: [string, () => Promise<TestApp>][] = [['embedded', () => createTestApp()]];
if (redisUp) backends.push(['Redis', createRedisApp]);

describe.each(backends)('list filters and paging (%s)', (_name, create) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await create();
  });
  afterEach(async () => {
    await t.close();
  });

  async function start(s: Spec): Promise<void> {
    const at = t.clock.now - s.age * 1000;
    const r = room({
      name: s.name,
      workspaceId: t.ws.id,
      agentName: s.agent ?? 'Support Agent',
      customerName: s.customerName,
      createdAt: at,
    });
    expect((await postWebhook(t.app, webhook('room_started', r, at))).statusCode).toBe(200);
    const who = s.phone
      ? participant(`sip_${s.name}`, 'sip', at + 500, { phone: '+14155550100' })
      : participant(`web_${s.name}`, 'standard', at + 500);
    expect((await postWebhook(t.app, webhook('participant_joined', r, at + 500, who))).statusCode).toBe(200);
    const events: { id: string; createdAt: number; type: string; [k: string]: unknown }[] = [];
    if (s.say) events.push({ id: `${s.name}-say`, createdAt: at + 1000, type: 'transcript', role: 'customer', content: s.say });
    if (s.transfer) events.push({ id: `${s.name}-tr`, createdAt: at + 1500, type: 'transfer_requested', reason: 'asked for a human' });
    if (events.length) expect((await postAgentEvents(t.app, s.name, events, { headers: t.ws.headers })).statusCode).toBe(202);
  }

  async function end(name: string): Promise<void> {
    const r = room({ name, workspaceId: t.ws.id, createdAt: t.clock.now - 1000 });
    expect((await postWebhook(t.app, webhook('room_finished', r, t.clock.now))).statusCode).toBe(200);
  }

  async function get(query = '') {
    return t.app.inject({ url: `/v2/api/active-calls${query}`, headers: t.ws.headers });
  }

  async function list(query = ''): Promise<ListBody> {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<ListBody>();
  }

  const names = (body: ListBody) => body.data.map((c) => c.roomName);

  /** Every page from `query` on, following nextCursor; what happens between pages is `between(page)`. */
  async function pages(query: string, between: (page: number) => Promise<void> = async () => {}): Promise<ListBody[]> {
    const out: ListBody[] = [];
    let body = await list(`?${query}`);
    out.push(body);
    while (body.nextCursor) {
      await between(out.length);
      body = await list(`?${query}&cursor=${encodeURIComponent(body.nextCursor)}`);
      out.push(body);
      expect(out.length).toBeLessThan(50);
    }
    return out;
  }

  async function seedMix(): Promise<void> {
    await start({ name: 'a-phone-happy', age: 600, phone: true, say: HAPPY, agent: 'Sales Agent' });
    await start({ name: 'b-web-angry', age: 500, say: ANGRY, transfer: true });
    await start({ name: 'c-phone-quiet', age: 400, phone: true });
    await start({ name: 'd-web-happy', age: 300, say: HAPPY, agent: 'Sales Agent', transfer: true });
    await start({ name: 'e-phone-angry', age: 200, phone: true, say: ANGRY });
  }

  it('without parameters, sends exactly the reference shape, byte for byte what the calls serialise to', async () => {
    await start({
      name: 'tricky',
      age: 75,
      phone: true,
      // Quotes, escapes, a fake duration field and characters outside ASCII must survive the pieces.
      say: 'He said "duration":0, then \\ left… 👋 é',
      customerName: 'Zoë "Z" <z@example.com>',
      agent: 'Agent ,"duration":0,',
    });
    await start({ name: 'plain', age: 3 });
    t.clock.advance(1_234);
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const now = t.clock.now;
    const calls = await t.services.stores.calls.listActive(t.ws.id);
    const expected = JSON.stringify({
      data: calls.map((c) => toActiveCallItem(c, now)),
      count: calls.length,
      timestamp: new Date(now).toISOString(),
    });
    expect(res.body).toBe(expected);
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(expected));
    const body = res.json<ListBody>();
    expect(Object.keys(body)).toEqual(['data', 'count', 'timestamp']);
    expect(body.data.map((c) => c.duration)).toEqual([76, 4]);
    // Filters alone do not page: still the reference shape.
    expect(Object.keys(await list('?type=phone'))).toEqual(['data', 'count', 'timestamp']);
  });

  it('a change to a call shows at once, and durations tick between identical lists', async () => {
    await start({ name: 'x', age: 10 });
    expect((await list()).data[0]?.sentiment).toBe('neutral');
    expect(
      (
        await postAgentEvents(t.app, 'x', [{ id: 'x-1', createdAt: t.clock.now, type: 'transcript', role: 'customer', content: ANGRY }], {
          headers: t.ws.headers,
        })
      ).statusCode,
    ).toBe(202);
    expect((await list()).data[0]?.sentiment).toBe('negative');
    t.clock.advance(2_000);
    expect((await list()).data[0]?.duration).toBe(12);
  });

  it('filters by type, agent, sentiment and transferRequested, together; count is what matches', async () => {
    await seedMix();
    expect(names(await list('?type=phone'))).toEqual(['a-phone-happy', 'c-phone-quiet', 'e-phone-angry']);
    expect(names(await list('?type=web'))).toEqual(['b-web-angry', 'd-web-happy']);
    expect(names(await list('?agent=Sales%20Agent'))).toEqual(['a-phone-happy', 'd-web-happy']);
    expect(names(await list('?agent=Sales'))).toEqual([]);
    expect(names(await list('?sentiment=negative'))).toEqual(['b-web-angry', 'e-phone-angry']);
    expect(names(await list('?sentiment=neutral'))).toEqual(['c-phone-quiet']);
    expect(names(await list('?transferRequested=true'))).toEqual(['b-web-angry', 'd-web-happy']);
    expect(names(await list('?transferRequested=false'))).toEqual(['a-phone-happy', 'c-phone-quiet', 'e-phone-angry']);
    const both = await list('?type=web&sentiment=positive&transferRequested=true&agent=Sales+Agent');
    expect(names(both)).toEqual(['d-web-happy']);
    expect(both.count).toBe(1);
    const none = await list('?type=phone&transferRequested=true');
    expect(none).toMatchObject({ data: [], count: 0 });
    for (const item of (await list('?sentiment=positive')).data) expect(item.sentiment).toBe('positive');
  });

  it('pages with limit and nextCursor: every call once, in order, count the total, null on the last page', async () => {
    await seedMix();
    const all = names(await list());
    const got = await pages('limit=2');
    expect(got.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(got.flatMap(names)).toEqual(all);
    for (const p of got) expect(p.count).toBe(5);
    expect(got.at(-1)?.nextCursor).toBeNull();
    // A last page that is exactly full still says so: no empty page after it.
    const exact = await pages('limit=5');
    expect(exact).toHaveLength(1);
    expect(exact[0]?.nextCursor).toBeNull();
    expect((await list('?limit=1000')).nextCursor).toBeNull();
    // Paging composes with filters; count stays the filtered total.
    const phone = await pages('type=phone&limit=1');
    expect(phone.flatMap(names)).toEqual(['a-phone-happy', 'c-phone-quiet', 'e-phone-angry']);
    for (const p of phone) expect(p.count).toBe(3);
    // An empty list pages too.
    expect(await list('?agent=nobody&limit=3')).toMatchObject({ data: [], count: 0, nextCursor: null });
  });

  it('a cursor keeps its page size when limit is left out, and accepts another limit', async () => {
    await seedMix();
    const first = await list('?limit=2');
    const cursor = encodeURIComponent(first.nextCursor ?? '');
    expect(names(await list(`?cursor=${cursor}`))).toEqual(['c-phone-quiet', 'd-web-happy']);
    const rest = await list(`?cursor=${cursor}&limit=10`);
    expect(names(rest)).toEqual(['c-phone-quiet', 'd-web-happy', 'e-phone-angry']);
    expect(rest.nextCursor).toBeNull();
  });

  it('never skips or repeats a call that stays active while others start and end around the cursor', async () => {
    await start({ name: 'p1', age: 900 });
    await start({ name: 'p2', age: 800 });
    await start({ name: 'p3', age: 700 });
    await start({ name: 'p4', age: 600 });
    await start({ name: 'p5', age: 500 });
    await start({ name: 'p6', age: 400 });
    const got = await pages('limit=2', async (page) => {
      if (page === 1) {
        await end('p1'); // already sent
        await end('p4'); // not sent yet
        await start({ name: 'early', age: 2_000 }); // starts before the cursor's place
        await start({ name: 'late', age: 100 }); // after it
      }
      if (page === 2) {
        await end('p5'); // the cursor's own call
        await start({ name: 'later', age: 50 });
      }
    });
    const seen = got.flatMap(names);
    // `early` started before the place the pages had reached: documented as not revisited.
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p5', 'p6', 'late', 'later']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses unknown and malformed parameters with a 400 naming them', async () => {
    await seedMix();
    const cases: [string, string][] = [
      ['?foo=1', 'querystring.foo'],
      ['?toString=1', 'querystring.toString'],
      ['?type=phone&Type=web', 'querystring.Type'],
      ['?type=fax', 'querystring.type'],
      ['?type=phone&type=web', 'querystring.type'],
      ['?agent=', 'querystring.agent'],
      ['?agent=a&agent=b', 'querystring.agent'],
      ['?sentiment=happy', 'querystring.sentiment'],
      ['?transferRequested=yes', 'querystring.transferRequested'],
      ['?transferRequested=', 'querystring.transferRequested'],
      ['?limit=0', 'querystring.limit'],
      ['?limit=1001', 'querystring.limit'],
      ['?limit=abc', 'querystring.limit'],
      ['?limit=1.5', 'querystring.limit'],
      ['?limit=-1', 'querystring.limit'],
      ['?limit=', 'querystring.limit'],
      ['?cursor=', 'querystring.cursor'],
      ['?cursor=not-a-cursor', 'querystring.cursor'],
      [`?cursor=${'A'.repeat(600)}`, 'querystring.cursor'],
      [`?cursor=${Buffer.from('{"s":1,"i":"x"}').toString('base64url')}`, 'querystring.cursor'],
    ];
    for (const [query, field] of cases) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      const body = res.json<{ error: { code: string; message: string; field: string } }>();
      expect(body.error, query).toMatchObject({ code: 'invalid_request', field });
      expect(body.error.message, query).toContain(field);
    }
  });

  it('refuses a cursor used with other filters, whatever their order in the query', async () => {
    await seedMix();
    const first = await list('?type=phone&transferRequested=false&limit=1');
    const cursor = encodeURIComponent(first.nextCursor ?? '');
    // The same filters in another order are the same filters.
    expect(names(await list(`?limit=1&transferRequested=false&cursor=${cursor}&type=phone`))).toEqual(['c-phone-quiet']);
    for (const other of ['type=web&transferRequested=false', 'type=phone', 'type=phone&transferRequested=false&sentiment=positive', '']) {
      const res = await get(`?${other}&cursor=${cursor}`);
      expect(res.statusCode, other).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_request', field: 'querystring.cursor' } });
    }
    // A page cursor of one workspace lists nothing of another: it is only a place in the order.
    const other = await t.newWorkspace('other');
    const theirs = await t.app.inject({
      url: `/v2/api/active-calls?type=phone&transferRequested=false&cursor=${cursor}`,
      headers: other.headers,
    });
    expect(theirs.json()).toMatchObject({ data: [], count: 0, nextCursor: null });
  });
});

/** A stored list view (JSON) with another agent name, in the item's bytes too. */
function renamed(raw: string, name: string): string {
  const view = JSON.parse(raw) as { aiAgentName: string; head: string };
  expect(view.head).toContain(`"aiAgentName":"${view.aiAgentName}"`);
  view.head = view.head.replace(`"aiAgentName":"${view.aiAgentName}"`, `"aiAgentName":"${name}"`);
  view.aiAgentName = name;
  return JSON.stringify(view);
}

describe.runIf(redisUp)('list on Redis', () => {
  let t: TestApp & { prefix: string };
  beforeEach(async () => {
    t = await createRedisApp();
  });
  afterEach(async () => {
    await t.close();
  });
  /** A call started 30 s ago in room `name`, through LiveKit's webhook. */
  const startCall = async (name: string) => {
    const at = t.clock.now - 30_000;
    const r = room({ name, workspaceId: t.ws.id, agentName: 'Agent', createdAt: at });
    expect((await postWebhook(t.app, webhook('room_started', r, at))).statusCode).toBe(200);
  };

  it('reads the small list views, not the calls, and only the views of calls logged as changed', async () => {
    for (const name of ['one', 'two']) await startCall(name);
    const list = async () => (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).body;
    const before = await list();
    const ids = (JSON.parse(before) as ListBody).data.map((c) => c.id);
    const [first = '', second = ''] = ids;
    const redis = new Redis(REDIS_URL);
    const key = (...parts: string[]) => [`${t.prefix}:{${t.ws.id}}`, ...parts].join(':');
    // What a commit does to the log: the next sequence number, scored against each call it changed.
    const log = async (...changed: string[]) => {
      const seq = await redis.incr(key('listseq'));
      for (const id of changed) await redis.zadd(key('listlog'), seq, id);
    };
    try {
      // The calls themselves are not read: unreadable, the list read again is unchanged.
      const saved = await redis.mget(ids.map((id) => key('call', id)));
      for (const id of ids) await redis.set(key('call', id), 'not json');
      await log(...ids);
      expect(await list()).toBe(before);
      // Only logged calls are read again: a view changed behind the log's back goes unnoticed...
      await redis.set(key('view', second), renamed((await redis.get(key('view', second))) ?? '', 'Renamed'));
      await log(first);
      expect(await list()).toBe(before);
      // ...until it is logged; and a logged call whose view is gone has ended.
      await redis.del(key('view', first));
      await log(first, second);
      const after = JSON.parse(await list()) as ListBody;
      expect(after.data.map((c) => [c.id, c.aiAgentName])).toEqual([[second, 'Renamed']]);
      // Another instance reads the whole list: a call active without a view (last written before views
      // existed) is listed from the call itself.
      await Promise.all(ids.map((id, i) => redis.set(key('call', id), saved[i] ?? '')));
      const dir = tempDir();
      const other = await openStores(loadConfig({ LIVECALLS_DATA_DIR: dir, REDIS_URL, LIVECALLS_REDIS_PREFIX: t.prefix }));
      try {
        expect((await other.calls.listViews(t.ws.id)).map((v) => [v.id, v.aiAgentName])).toEqual([
          [first, 'Agent'],
          [second, 'Renamed'],
        ]);
      } finally {
        await other.close();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      redis.disconnect();
    }
  });

  it('reads the whole list again when too far behind the log, or when the sequence went back', async () => {
    await startCall('only');
    const agentNow = async () =>
      (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json<ListBody>().data[0]?.aiAgentName;
    expect(await agentNow()).toBe('Agent');
    const redis = new Redis(REDIS_URL);
    const key = (...parts: string[]) => [`${t.prefix}:{${t.ws.id}}`, ...parts].join(':');
    try {
      const id = (await redis.hvals(key('active')))[0] ?? '';
      const rename = async (name: string) => redis.set(key('view', id), renamed((await redis.get(key('view', id))) ?? '', name));
      await rename('Unlogged');
      await redis.incr(key('listseq'));
      expect(await agentNow()).toBe('Agent'); // a step the log names nothing for: nothing read
      await redis.incrby(key('listseq'), LOG_SPAN); // the log no longer reaches back to what is kept
      expect(await agentNow()).toBe('Unlogged');
      await rename('After loss');
      await redis.del(key('listseq'), key('listlog')); // lost: the sequence starts again
      await redis.incr(key('listseq'));
      expect(await agentNow()).toBe('After loss');
    } finally {
      redis.disconnect();
    }
  });

  it('a change committed by another instance shows on the next list', async () => {
    await startCall('shared');
    const list = async () => (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json<ListBody>();
    expect((await list()).data[0]?.sentiment).toBe('neutral');
    const dir = tempDir();
    const other = await openStores(loadConfig({ LIVECALLS_DATA_DIR: dir, REDIS_URL, LIVECALLS_REDIS_PREFIX: t.prefix }));
    const redis = new Redis(REDIS_URL);
    const key = (name: string) => `${t.prefix}:{${t.ws.id}}:${name}`;
    try {
      const first = Number(await redis.get(key('listseq')));
      expect(first).toBeGreaterThan(0);
      const say = { type: 'transcript' as const, id: 'elsewhere', at: t.clock.now, role: 'customer' as const, content: ANGRY };
      await serviceFor(other, t.clock.now).ingest(t.ws.id, 'shared', [say], 'agent');
      // Every commit takes the next sequence number and logs the calls it changed under it.
      expect(Number(await redis.get(key('listseq')))).toBe(first + 1);
      const id = (await list()).data[0]?.id ?? '';
      expect(Number(await redis.zscore(key('listlog'), id))).toBe(first + 1);
      expect((await list()).data[0]).toMatchObject({ sentiment: 'negative' });
      await serviceFor(other, t.clock.now).ingest(t.ws.id, 'fresh', [{ ...say, id: 'fresh-1' }], 'agent');
      expect((await list()).data.map((c) => c.roomName)).toEqual(['shared', 'fresh']);
    } finally {
      redis.disconnect();
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists read while another instance starts, changes and ends calls end on the list a whole read gives', async () => {
    const dir = tempDir();
    const other = await openStores(loadConfig({ LIVECALLS_DATA_DIR: dir, REDIS_URL, LIVECALLS_REDIS_PREFIX: t.prefix }));
    const list = async () => (await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers })).json<ListBody>();
    try {
      const writer = serviceFor(other, t.clock.now);
      let rooms = Array.from({ length: 12 }, (_, i) => `r${i}`);
      let n = 0;
      const turn = (roomName: string) =>
        writer.ingest(
          t.ws.id,
          roomName,
          [{ type: 'transcript', id: `t${n++}`, at: t.clock.now + n, role: 'customer', content: `turn ${n}` }],
          'agent',
        );
      await list(); // kept from here on: what follows is patched in
      const writes = (async () => {
        for (let round = 0; round < 6; round++) {
          await Promise.all(rooms.map(turn));
          // Every third room ends each round; its next call is in a room of a new name.
          const ending = rooms.filter((_, i) => (i + round) % 3 === 0);
          await Promise.all(
            ending.map((roomName) =>
              writer.ingest(
                t.ws.id,
                roomName,
                [{ type: 'call_ended', id: `e${n++}`, at: t.clock.now + n, reason: 'ended_by_api' }],
                'agent',
              ),
            ),
          );
          rooms = rooms.map((roomName) => (ending.includes(roomName) ? `${roomName}.${round}` : roomName));
        }
      })();
      const reads = Array.from({ length: 40 }, async () => {
        for (let i = 0; i < 3; i++) await list();
      });
      await Promise.all([writes, ...reads]);
      const patched = await list();
      const whole = await other.calls.listViews(t.ws.id);
      expect(patched.data.map((c) => [c.id, (c as Item & { lastMessage: string }).lastMessage])).toEqual(
        whole.map((v) => [v.id, JSON.parse(`${v.head}0${v.tail}`).lastMessage]),
      );
      expect(patched.count).toBe(whole.length);
      expect(whole.length).toBeGreaterThan(0);
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('list in OpenAPI', () => {
  it('documents every filter and paging parameter, and nextCursor', async () => {
    const t = await createTestApp();
    try {
      const doc = (await t.app.inject({ url: '/openapi.json' })).json();
      const get = doc.paths['/v2/api/active-calls'].get;
      const query = get.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name);
      expect(query.sort()).toEqual(['agent', 'cursor', 'limit', 'sentiment', 'transferRequested', 'type']);
      const body = get.responses['200'].content['application/json'].schema;
      expect(body.required).toEqual(['data', 'count', 'timestamp']);
      expect(body.properties.nextCursor).toMatchObject({ type: 'string', nullable: true });
    } finally {
      await t.close();
    }
  });
});
