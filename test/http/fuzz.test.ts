/**
 * Hostile input against a real server, on both backends: signed LiveKit webhooks whose JSON is mutated (times
 * out of every range, deep nesting, NUL and lone surrogates, long strings, wrong types) and agent event
 * batches likewise. No request may answer 5xx, and afterwards the server still answers /healthz, the list and
 * every call's details, ends the calls (the stale sweeper) and archives them without a failure.
 *
 * Fixed seed, printed with the number of requests; LIVECALLS_FUZZ_SEED / LIVECALLS_FUZZ_RUNS override them
 * to explore further locally.
 */
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { signBody } from '../../src/simulate/sign.ts';
import { createTestApp, LK_KEY, LK_SECRET, type TestClock } from '../helpers/app.ts';
import { pgReachable, redisReachable, storesOnPlaces } from '../helpers/backends.ts';

const SEED = Number(process.env.LIVECALLS_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.LIVECALLS_FUZZ_RUNS ?? 300);
const ROOMS = ['fuzz-a', 'fuzz-b', 'fuzz-c'];
const MINUTE = 60_000;
/** A request left unanswered (a group commit that died with its process) fails at once, not at the test's timeout. */
const ANSWER_WITHIN_MS = 10_000;

async function answered(response: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'no answer'>((resolve) => (timer = setTimeout(() => resolve('no answer'), ANSWER_WITHIN_MS)));
  try {
    return await Promise.race([response, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Target {
  app: FastifyInstance;
  services: Services;
  clock: TestClock;
  workspaceId: string;
  headers: Record<string, string>;
  close(): Promise<void>;
}

async function embeddedTarget(): Promise<Target> {
  const t = await createTestApp({ LIVECALLS_RATE_LIMIT: '0' });
  return { app: t.app, services: t.services, clock: t.clock, workspaceId: t.ws.id, headers: t.ws.headers, close: () => t.close() };
}

async function redisPostgresTarget(): Promise<Target> {
  const places = storesOnPlaces(true, true, 'lcfuzz');
  const place = places.newPlace();
  const stores = await places.open(place);
  const clock: TestClock = {
    now: Date.UTC(2026, 10, 24, 10, 0, 0),
    advance(ms) {
      this.now += ms;
    },
  };
  const config = loadConfig({
    LIVECALLS_DATA_DIR: places.dirOf(place) ?? '',
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVECALLS_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
  });
  const services = createServices(config, { clock: () => clock.now, log: pino({ level: 'silent' }), stores });
  const app = await buildApp(services);
  await app.ready();
  const ws = await services.stores.tenants.createWorkspace('fuzz', clock.now);
  const { apiKey } = await services.stores.tenants.createKey(ws.id, clock.now);
  return {
    app,
    services,
    clock,
    workspaceId: ws.id,
    headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id },
    async close() {
      await app.close();
      await services.close();
      await places.dispose(place);
    },
  };
}

// ---- hostile values ----

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d', '', ' ', '\u202e', '%00', '../..', '{"a":'),
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Deep JSON text: parses fine, cannot be serialised again without care. */
const deepJson = fc.integer({ min: 100, max: 6_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const deepObjectJson = fc.integer({ min: 100, max: 6_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n));

/** Times out of every range, as proto3 JSON sends int64 (a string). */
const hostileInt64 = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '9223372036854775807',
      '-9223372036854775808',
      '8640000000000001',
      '8640000000000000',
      '253402300800000',
      '4102444800001',
      '-1',
      '0',
      '1',
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) },
);

/** Times as agent events send them (JSON numbers), out of every range. */
const hostileMillis = fc.oneof(
  fc.constantFrom(8.64e15, 8.64e15 + 1, Number.MAX_SAFE_INTEGER, 4_102_444_800_001, 1e300, -1, 0, 1e12, 1.5e12 + 0.5),
  fc.integer(),
  fc.double(),
);

const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constantFrom('1e400', 'NaN', '', '0x10', '99999999999999999999999'),
  fc.jsonValue({ maxDepth: 3 }),
);

const hostileString = fc.oneof(
  { weight: 6, arbitrary: hostileText },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: deepObjectJson },
);

/** Mostly of the field's type (so the request gets past parsing to the code behind), sometimes not. */
const typed = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: wrongType });

const hostileAttributes = fc.dictionary(
  hostileText.map((k) => k.slice(0, 300)),
  hostileString,
  { maxKeys: 5 },
);

// ---- webhooks ----

const WEBHOOK_PATHS = [
  'event',
  'id',
  'createdAt',
  'room.name',
  'room.sid',
  'room.metadata',
  'room.creationTime',
  'room.creationTimeMs',
  'participant.sid',
  'participant.identity',
  'participant.name',
  'participant.metadata',
  'participant.joinedAt',
  'participant.joinedAtMs',
  'participant.kind',
  'participant.state',
  'participant.attributes',
  'participant.attributes.sip.phoneNumber',
  'participant.attributes.lk.agent.name',
] as const;

type Json = Record<string, unknown>;

const TIME_PATHS = new Set(['createdAt', 'room.creationTime', 'room.creationTimeMs', 'participant.joinedAt', 'participant.joinedAtMs']);

/** Times are where the worst failures were: half the mutations are of a time. */
const webhookPath = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...TIME_PATHS) },
  { weight: 1, arbitrary: fc.constantFrom(...WEBHOOK_PATHS) },
);

const webhookMutation = webhookPath.chain((path) => {
  const value = TIME_PATHS.has(path)
    ? typed(hostileInt64)
    : path === 'participant.attributes'
      ? typed(hostileAttributes)
      : path === 'participant.kind' || path === 'participant.state'
        ? typed(fc.constantFrom('SIP', 'AGENT', 'STANDARD', 'EGRESS', 'BOGUS', 99, -1))
        : path === 'event'
          ? typed(fc.constantFrom('room_started', 'participant_joined', 'track_published', 'egress_started', 'x'))
          : typed(hostileString);
  return value.map((v) => [path, v] as const);
});
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** Percent-encodes a path segment; a lone surrogate becomes the bytes of one (invalid UTF-8), as a hostile client sends it. */
function pathSegment(text: string): string {
  return Array.from(text, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

function setPath(obj: Json, path: string, value: unknown): void {
  // Attribute keys contain dots: everything after `attributes.` is one key.
  const at = path.indexOf('attributes.');
  const parts = at >= 0 ? [...path.slice(0, at + 'attributes'.length).split('.'), path.slice(at + 'attributes.'.length)] : path.split('.');
  let node: Json = obj;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Json;
  }
  node[parts.at(-1) ?? ''] = value;
}

const webhookArb = fc.record({
  event: fc.constantFrom('room_started', 'participant_joined', 'participant_left', 'participant_connection_aborted', 'room_finished'),
  room: fc.constantFrom(...ROOMS),
  kind: fc.constantFrom(undefined, 'SIP', 'AGENT', 'EGRESS'),
  n: fc.nat(1_000_000),
  mutations: fc.array(webhookMutation, { minLength: 1, maxLength: 4 }),
  /** A metadata string with extra hostile content next to the workspace id. */
  metadataExtra: fc.option(hostileString, { nil: undefined }),
});

function webhookBody(w: ValueOf<typeof webhookArb>, workspaceId: string, now: number): string {
  const seconds = String(Math.floor(now / 1000));
  const metadata = JSON.stringify({ workspaceId, agentName: 'Fuzz', extra: w.metadataExtra });
  const body: Json = {
    event: w.event,
    id: `EV_fuzz_${w.n}`,
    createdAt: seconds,
    room: { sid: `RM_${w.room}`, name: w.room, metadata, creationTime: seconds, creationTimeMs: String(now) },
    participant: {
      sid: `PA_${w.n % 7}`,
      identity: `p${w.n % 7}`,
      name: 'Caller',
      joinedAt: seconds,
      joinedAtMs: String(now),
      ...(w.kind ? { kind: w.kind } : {}),
      attributes: w.kind === 'SIP' ? { 'sip.phoneNumber': '+14155550100' } : {},
    },
  };
  for (const [path, value] of w.mutations) setPath(body, path, value);
  return JSON.stringify(body);
}

// ---- agent events ----

const AGENT_FIELDS = ['id', 'createdAt', 'type', 'role', 'content', 'reason', 'name', 'phone'] as const;

const agentEventArb = fc.record({
  type: fc.constantFrom('transcript', 'transfer_requested', 'customer_info'),
  n: fc.nat(1_000_000),
  mutations: fc.array(
    fc
      .constantFrom(...AGENT_FIELDS)
      .chain((field) =>
        (field === 'createdAt' ? typed(hostileMillis) : field === 'id' ? typed(hostileText) : typed(hostileString)).map(
          (v) => [field, v] as const,
        ),
      ),
    { maxLength: 3 },
  ),
});

const agentBatchArb = fc.record({
  room: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROOMS) }, { weight: 1, arbitrary: hostileText.map((s) => s.slice(0, 300)) }),
  events: fc.array(agentEventArb, { minLength: 1, maxLength: 3 }),
});

function agentEvent(e: ValueOf<typeof agentEventArb>, now: number): Json {
  const base: Json = { id: `a${e.n}`, createdAt: now, type: e.type };
  if (e.type === 'transcript') Object.assign(base, { role: e.n % 2 ? 'agent' : 'customer', content: 'hello there' });
  if (e.type === 'transfer_requested') base.reason = 'wants a human';
  if (e.type === 'customer_info') base.name = 'Ada';
  for (const [field, value] of e.mutations) base[field] = value;
  return base;
}

const requestArb = fc.oneof(
  { weight: 3, arbitrary: webhookArb.map((w) => ({ kind: 'webhook' as const, w })) },
  {
    weight: 2,
    arbitrary: agentBatchArb.map((a) => ({ kind: 'agent' as const, a })),
  },
);

// ---- the property ----

const BACKENDS: [string, () => Promise<Target>, () => Promise<boolean>][] = [
  ['embedded', embeddedTarget, async () => true],
  ['redis+postgres', redisPostgresTarget, async () => (await redisReachable()) && (await pgReachable())],
];

const open: Target[] = [];
afterAll(async () => {
  for (const t of open.splice(0)) await t.close();
});

describe.each(BACKENDS)('hostile input (%s)', (name, openTarget, available) => {
  it('never answers 5xx, never ends the process, and leaves a server that still lists, ends and archives', async () => {
    if (!(await available())) return;
    const t = await openTarget();
    open.push(t);
    const failures: string[] = [];
    let requests = 0;
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 3 }), async (batch) => {
        for (const r of batch) {
          t.clock.advance(1_000);
          let res: LightMyRequestResponse | 'no answer';
          if (r.kind === 'webhook') {
            const payload = webhookBody(r.w, t.workspaceId, t.clock.now);
            res = await answered(
              t.app.inject({
                method: 'POST',
                url: '/webhooks/livekit',
                headers: { 'content-type': 'application/webhook+json', authorization: await signBody(payload, LK_KEY, LK_SECRET) },
                payload,
              }),
            );
          } else {
            const payload = JSON.stringify({ events: r.a.events.map((e) => agentEvent(e, t.clock.now)) });
            res = await answered(
              t.app.inject({
                method: 'POST',
                url: `/v2/api/active-calls/${pathSegment(r.a.room)}/events`,
                headers: { 'content-type': 'application/json', ...t.headers },
                payload,
              }),
            );
          }
          requests++;
          if (res === 'no answer') {
            failures.push(`no answer within ${ANSWER_WITHIN_MS} ms to a ${r.kind}`);
            return false;
          }
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) {
            failures.push(`${res.statusCode} ${r.kind}: ${res.body.slice(0, 300)}`);
            return false;
          }
        }
        return true;
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        endOnFailure: true,
        // The counterexample can hold megabytes of nesting: the first failing answer says enough.
        reporter: (details) => {
          if (details.failed)
            throw new Error(`seed ${SEED}, run ${details.numRuns}: ${failures[0] ?? String(details.errorInstance).slice(0, 500)}`);
        },
      },
    );
    const tally = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
    console.log(`fuzz (${name}): ${requests} requests in ${RUNS} runs, seed ${SEED} (${tally.join(', ')})`);
    expect(failures).toEqual([]);

    // The server is still whole: health, the list, every call's details.
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const list = await t.app.inject({ url: '/v2/api/active-calls', headers: t.headers });
    expect(list.statusCode).toBe(200);
    const rooms = (list.json() as { data: { roomName: string }[] }).data.map((c) => c.roomName);
    for (const room of rooms) {
      const details = await t.app.inject({ url: `/v2/api/active-calls/${encodeURIComponent(room)}`, headers: t.headers });
      // A LiveKit room name may be one the API's paths cannot name (a 4xx): never a 5xx.
      expect(details.statusCode, details.body.slice(0, 300)).toBeLessThan(500);
    }

    // The stale sweeper ends every call, and the archive takes each of them.
    t.clock.advance(24 * 60 * MINUTE);
    await t.services.sweeper.sweep();
    const after = await t.app.inject({ url: '/v2/api/active-calls', headers: t.headers });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ count: 0 });
    const archiveFailures = await t.services.metrics.archiveFailures.get();
    expect(archiveFailures.values[0]?.value ?? 0).toBe(0);
  }, 90_000);
});
