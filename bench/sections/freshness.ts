/**
 * Freshness: how long after an event's 2xx it can be seen (1) in the list (polled right after the 2xx
 * until it shows) and (2) on the live stream (GET /v2/api/active-calls/stream, docs/live-stream.md) by each
 * of 100 connected SSE clients. A workspace of 100 calls is watched while calls keep changing across the
 * store (about 1,000 events/s, some of them in the watched workspace: every one is a frame to every client).
 * The stream is fed as part of the commit, before the 2xx is written, so a frame usually reaches a client
 * before the poster has read its 2xx: such deliveries count as 0 ms, and how many there were is reported. So
 * the time from sending the event to each client's frame is reported too, which does not depend on that race.
 */
import http from 'node:http';
import { BACKENDS, createBackend, seedTenants, type Backend, type BackendName } from '../lib/backends.ts';
import { percentile } from '../lib/cannon.ts';
import { startChurn, type ChurnTotals } from '../lib/churn.ts';
import { logFile, seconds, type BenchContext, type Row, type SectionResult, type Target } from '../lib/context.ts';
import { seedCalls, type SeededRoom } from '../lib/seed.ts';
import { startLivecalls } from '../lib/server.ts';

const CLIENTS = 100;
const WATCHED_CALLS = 100;
const OTHER_CALLS = 1_000;
const CHURN_RATE = 1_000;
const PROBES_PER_SECOND = 20;
const PROBE_ROOMS = 10;
const P99_TARGET_MS = 50;

interface SseClient {
  /** marker -> arrival time */
  seen: Map<string, number>;
  frames: number;
  overflowed: boolean;
  close(): void;
}

/** One SSE client that notes when each probe marker first arrives in a frame. */
function connect(url: string, headers: Record<string, string>, markerPrefix: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const client: SseClient = { seen: new Map(), frames: 0, overflowed: false, close: () => undefined };
    let buffer = '';
    let ready = false;
    const req = http.get(`${url}/v2/api/active-calls/stream`, { headers: { ...headers, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(':')) continue; // heartbeat
          client.frames++;
          if (frame.includes('event: snapshot') && !ready) {
            ready = true;
            resolve(client);
          }
          if (frame.includes('event: overflow')) client.overflowed = true;
          for (let at = frame.indexOf(markerPrefix); at >= 0; at = frame.indexOf(markerPrefix, at + 1)) {
            const marker = /^[\w-]+/.exec(frame.slice(at))?.[0];
            if (marker && !client.seen.has(marker)) client.seen.set(marker, now);
          }
        }
      });
    });
    req.on('error', (err) => (ready ? undefined : reject(err)));
    client.close = () => req.destroy();
  });
}

interface Freshness {
  probes: number;
  /** ms from 2xx to first list answer showing the event */
  list: { p50: number; p99: number; max: number; missing: number };
  /** ms from 2xx to arrival, over every client and probe */
  stream: {
    p50: number;
    p99: number;
    max: number;
    deliveries: number;
    expected: number;
    beforeAck: number;
    overflowed: number;
    /** ms from sending the event to the frame's arrival: an upper bound that does not depend on when the poster saw its 2xx */
    fromSendP50: number;
    fromSendP99: number;
  };
  churn: ChurnTotals | undefined;
}

async function freshnessOn(ctx: BenchContext, backend: Backend): Promise<Freshness> {
  const [watched, ...others] = await seedTenants(backend, 11);
  if (!watched) throw new Error('no tenant');
  const server = await startLivecalls({ ...backend.env, LIVECALLS_RATE_LIMIT: '0' }, logFile(ctx, `freshness-${backend.name}`), {
    cpus: ctx.cores.server,
    nodeFlags: ctx.serverFlags,
  });
  const clients: SseClient[] = [];
  try {
    const watchedRooms = await seedCalls(server.url, [watched], WATCHED_CALLS);
    const otherRooms = await seedCalls(server.url, others, OTHER_CALLS / others.length);
    const headers = { 'x-api-key': watched.apiKey, 'x-workspace-id': watched.workspaceId };
    const marker = `probe${Date.now().toString(36)}`;
    for (let i = 0; i < CLIENTS; i++) clients.push(await connect(server.url, headers, marker));
    // The probes' rooms are left out of the background ingest: a later turn there would replace the probe as
    // the call's last message before the list could show it.
    const probeRooms = watchedRooms.slice(0, PROBE_ROOMS);
    const churn = startChurn(ctx, server.url, [...watchedRooms.slice(PROBE_ROOMS), ...otherRooms], CHURN_RATE);
    const acked = new Map<string, number>();
    const sent = new Map<string, number>();
    const listDelays: number[] = [];
    let missing = 0;
    let totals: ChurnTotals | undefined;
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const probes = Math.round(seconds(ctx, 10, 3) * PROBES_PER_SECOND);
      const interval = 1_000 / PROBES_PER_SECOND;
      const started = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let n = 0; n < probes; n++) {
        const due = started + n * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const room = probeRooms[n % probeRooms.length] as SeededRoom;
        inFlight.push(
          probe(server.url, headers, room, `${marker}-${n}`).then((r) => {
            acked.set(`${marker}-${n}`, r.ackedAt);
            sent.set(`${marker}-${n}`, r.sentAt);
            if (r.listDelay === undefined) missing++;
            else listDelays.push(r.listDelay);
          }),
        );
      }
      await Promise.all(inFlight);
      // Frames still on their way.
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      totals = await churn.stop();
    }
    const delays: number[] = [];
    const fromSend: number[] = [];
    let beforeAck = 0;
    for (const c of clients) {
      for (const [m, at] of c.seen) {
        const ack = acked.get(m);
        if (ack === undefined) continue;
        if (at < ack) beforeAck++;
        delays.push(Math.max(0, at - ack));
        fromSend.push(at - (sent.get(m) ?? ack));
      }
    }
    delays.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    listDelays.sort((a, b) => a - b);
    const result: Freshness = {
      probes: acked.size,
      list: { p50: percentile(listDelays, 50), p99: percentile(listDelays, 99), max: listDelays.at(-1) ?? Number.NaN, missing },
      stream: {
        p50: percentile(delays, 50),
        p99: percentile(delays, 99),
        max: delays.at(-1) ?? Number.NaN,
        deliveries: delays.length,
        expected: acked.size * CLIENTS,
        beforeAck,
        overflowed: clients.filter((c) => c.overflowed).length,
        fromSendP50: percentile(fromSend, 50),
        fromSendP99: percentile(fromSend, 99),
      },
      churn: totals,
    };
    ctx.log(
      `  ${backend.name}: list p50/p99 ${result.list.p50.toFixed(1)}/${result.list.p99.toFixed(1)} ms; stream p50/p99 ${result.stream.p50.toFixed(1)}/${result.stream.p99.toFixed(1)} ms after the 2xx, ${result.stream.fromSendP50.toFixed(1)}/${result.stream.fromSendP99.toFixed(1)} ms after sending (${result.stream.deliveries}/${result.stream.expected} deliveries, ${result.stream.overflowed} overflowed); background ${totals?.rps.toFixed(0) ?? '?'} events/s`,
    );
    return result;
  } finally {
    for (const c of clients) c.close();
    await server.kill();
  }
}

/** Posts one marked turn; after its 2xx, reads the list until the turn shows (at most 2 s). */
async function probe(
  url: string,
  headers: Record<string, string>,
  room: SeededRoom,
  marker: string,
): Promise<{ sentAt: number; ackedAt: number; listDelay: number | undefined }> {
  const sentAt = performance.now();
  const body = JSON.stringify({
    events: [{ id: marker, createdAt: Date.now(), type: 'transcript', role: 'customer', content: `${marker} is here` }],
  });
  const res = await fetch(`${url}/v2/api/active-calls/${room.roomName}/events`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  const ackedAt = performance.now();
  if (res.status !== 202) throw new Error(`probe: HTTP ${res.status}`);
  while (performance.now() - ackedAt < 2_000) {
    const list = await (await fetch(`${url}/v2/api/active-calls`, { headers })).text();
    if (list.includes(marker)) return { sentAt, ackedAt, listDelay: performance.now() - ackedAt };
  }
  return { sentAt, ackedAt, listDelay: undefined };
}

export async function runFreshness(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const results = new Map<BackendName, Freshness>();
  for (const name of backends) {
    const backend = await createBackend(name, ctx.dir);
    try {
      results.set(name, await freshnessOn(ctx, backend));
    } finally {
      await backend.cleanup();
    }
  }
  const rows: Row[] = [];
  const targets: Target[] = [];
  for (const [name, f] of results) {
    rows.push({
      section: 'freshness',
      backend: name,
      metric: '2xx to list, p99',
      value: round(f.list.p99),
      unit: 'ms',
      detail: `p50 ${f.list.p50.toFixed(1)} ms, max ${f.list.max.toFixed(1)} ms, ${f.probes} probes, ${f.list.missing} never shown`,
    });
    rows.push({
      section: 'freshness',
      backend: name,
      metric: `2xx to SSE (${CLIENTS} clients), p99`,
      value: round(f.stream.p99),
      unit: 'ms',
      detail: `p50 ${f.stream.p50.toFixed(1)} ms; ${f.stream.deliveries}/${f.stream.expected} delivered, ${f.stream.beforeAck} before the 2xx; from sending the event p50/p99 ${f.stream.fromSendP50.toFixed(1)}/${f.stream.fromSendP99.toFixed(1)} ms; ${f.stream.overflowed} clients overflowed; background ${f.churn?.rps.toFixed(0) ?? '?'} events/s`,
    });
    const complete = f.stream.deliveries === f.stream.expected && f.list.missing === 0;
    targets.push({
      section: 'freshness',
      backend: name,
      target: `SSE p99 < ${P99_TARGET_MS} ms with ${CLIENTS} clients, every frame delivered`,
      measured: `${f.stream.p99.toFixed(1)} ms, ${f.stream.deliveries}/${f.stream.expected}`,
      pass: f.stream.p99 < P99_TARGET_MS && complete,
    });
  }
  return { rows, targets, raw: Object.fromEntries(results) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
