/**
 * Ingest: agent transcript events in batches of 1 and of 20, and signed LiveKit webhooks, over HTTP against
 * the real server. Each kind is measured twice: as fast as the server acknowledges with 32 connections
 * (autocannon: throughput), then at half the target rate sent at an even pace (latency when not saturated).
 * A 2xx means the events are durable, as always.
 */
import type { Backend, BackendName } from '../lib/backends.ts';
import { BACKENDS, createBackend, seedTenants } from '../lib/backends.ts';
import { cpuUsPerRequest, load, type LoadResult } from '../lib/cannon.ts';
import { logFile, seconds, type BenchContext, type Row, type SectionResult, type Target } from '../lib/context.ts';
import { paced } from '../lib/paced.ts';
import { describeStalls, watchStalls, type Stalls } from '../lib/stalls.ts';
import { agentRequests, signedWebhooks, turnText } from '../lib/payloads.ts';
import { scoreText } from '../../src/analysis/sentiment.ts';
import { startLivecalls, waitIdle } from '../lib/server.ts';

interface Kind {
  /** for --ingest-kinds */
  id: string;
  name: string;
  /** events per request */
  batch: number;
  /** embedded target, events/s */
  target: number;
}

export const KINDS: readonly Kind[] = [
  { id: 'batch20', name: 'agent events, batches of 20', batch: 20, target: 10_000 },
  { id: 'single', name: 'agent events, single', batch: 1, target: 3_000 },
  { id: 'webhooks', name: 'LiveKit webhooks', batch: 1, target: 2_000 },
];
const P99_TARGET_MS = 20;
const ROOMS = 500;

export interface IngestFigures {
  kind: string;
  /** Events a request. */
  batch: number;
  eventsPerSecond: number;
  /** Server CPU time per event at saturation, µs. */
  cpuUsPerEvent: number | undefined;
  saturated: LoadResult;
  /** events/s asked for in the latency run */
  halfRate: number;
  atHalfRate: LoadResult;
  /** What held the server or the machine up during the latency run. */
  stalls: Stalls | undefined;
}

/**
 * Server CPU an event at half rate: beside the saturated figure it shows what does not share out when requests
 * come one at a time (each its own commit, on the embedded store) rather than many together.
 */
function halfRateCpu(f: IngestFigures): string {
  const us = cpuUsPerRequest(f.atHalfRate) / f.batch;
  return `${Number.isNaN(us) ? '?' : us.toFixed(0)} µs server CPU/event`;
}

export async function ingestOn(ctx: BenchContext, backend: Backend, tag: string): Promise<IngestFigures[]> {
  const [tenant] = await seedTenants(backend, 1);
  if (!tenant) throw new Error('no tenant');
  const server = await startLivecalls({ ...backend.env, LIVECALLS_RATE_LIMIT: '0' }, logFile(ctx, `ingest-${tag}`), {
    cpus: ctx.cores.server,
    nodeFlags: ctx.serverFlags,
  });
  const agentHeaders = { 'content-type': 'application/json', 'x-api-key': tenant.apiKey, 'x-workspace-id': tenant.workspaceId };
  const out: IngestFigures[] = [];
  const serverPid = server.proc.pid;
  try {
    // JIT and caches warm, so the first measured kind is not penalised.
    await load({
      url: server.url,
      method: 'POST',
      duration: seconds(ctx, 2, 1),
      connections: 8,
      headers: agentHeaders,
      next: agentRequests(ROOMS, 1, 'warm'),
    });
    await waitIdle(server.url);
    const maxSeconds = seconds(ctx, 6);
    // Long enough that one pause of the machine (a GC, another process) does not make the 99th percentile alone.
    const rateSeconds = seconds(ctx, 10);
    const targetScale = backend.name === 'embedded' ? 1 : 0.5;
    for (const kind of KINDS.filter((k) => !ctx.ingestKinds || ctx.ingestKinds.includes(k.id))) {
      const halfRate = (kind.target * targetScale) / 2;
      let saturated: LoadResult;
      let atHalfRate: LoadResult;
      let stalls: Stalls | undefined;
      if (kind.name === 'LiveKit webhooks') {
        // Signed up front: enough for the fastest run plus the fixed-rate run, each webhook used once.
        const hooks = await signedWebhooks(tenant.workspaceId, Math.ceil(maxSeconds * 6_000 + rateSeconds * halfRate * 1.2));
        let i = 0;
        const next = () => {
          const h = hooks[i++ % hooks.length] as (typeof hooks)[number];
          return { body: h.body, headers: { authorization: h.authorization } };
        };
        const common = {
          url: `${server.url}/webhooks/livekit`,
          method: 'POST' as const,
          headers: { 'content-type': 'application/webhook+json' },
          next,
          expect: (status: number, body: string) => status === 200 && body.includes('"applied"'),
        };
        saturated = await load({ ...common, duration: maxSeconds, connections: 32, serverPid });
        await waitIdle(server.url);
        const watch = await watchStalls(server.url);
        atHalfRate = await paced({ ...common, duration: rateSeconds, rate: halfRate, serverPid });
        stalls = await watch();
        if (i > hooks.length) ctx.log(`  warning: ${i - hooks.length} webhooks were resent (duplicates)`);
      } else {
        const common = {
          url: server.url,
          method: 'POST' as const,
          headers: agentHeaders,
          expect: (status: number, body: string) => status === 202 && body.includes(`"applied":${kind.batch}`),
        };
        saturated = await load({
          ...common,
          duration: maxSeconds,
          connections: 32,
          serverPid,
          next: agentRequests(ROOMS, kind.batch, `max${kind.batch}`),
        });
        await waitIdle(server.url);
        const watch = await watchStalls(server.url);
        atHalfRate = await paced({
          ...common,
          serverPid,
          duration: rateSeconds,
          rate: halfRate / kind.batch,
          next: agentRequests(ROOMS, kind.batch, `rate${kind.batch}`),
        });
        stalls = await watch();
      }
      for (const r of [saturated, atHalfRate]) {
        if (r.errors || r.non2xx || r.mismatches)
          ctx.log(`  ${kind.name}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.mismatches} unexpected answers`);
      }
      // Whatever an overloaded run left queued is answered before the next kind is measured.
      await waitIdle(server.url);
      const perRequest = cpuUsPerRequest(saturated);
      const cpuUsPerEvent = Number.isNaN(perRequest) ? undefined : perRequest / kind.batch;
      const figures = {
        kind: kind.name,
        batch: kind.batch,
        eventsPerSecond: saturated.rps * kind.batch,
        cpuUsPerEvent,
        saturated,
        halfRate,
        atHalfRate,
        stalls,
      };
      ctx.log(
        `  ${backend.name} ${kind.name}: ${figures.eventsPerSecond.toFixed(0)} events/s, server CPU ${cpuUsPerEvent?.toFixed(0) ?? '?'} µs/event (p50 ${saturated.p50.toFixed(1)} ms, p99 ${saturated.p99.toFixed(1)} ms); at ${halfRate} events/s p50 ${atHalfRate.p50.toFixed(1)} ms, p99 ${atHalfRate.p99.toFixed(1)} ms`,
      );
      out.push(figures);
    }
  } finally {
    await server.kill();
  }
  return out;
}

/**
 * The sentiment model's cost for one transcript turn of the kind sent here, on this machine (scored once per
 * text; the first pass also warms the text memo, so the timed turns are new ones): every new turn is scored
 * once, which bounds what one core can ingest.
 */
function sentimentMicrosPerTurn(): number {
  for (let n = 0; n < 500; n++) scoreText(turnText(n).content);
  const t0 = performance.now();
  const turns = 3_000;
  for (let n = 0; n < turns; n++) scoreText(turnText(1_000 + n).content);
  return ((performance.now() - t0) * 1000) / turns;
}

export async function runIngest(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const sentimentUs = sentimentMicrosPerTurn();
  ctx.log(`  sentiment model: ${sentimentUs.toFixed(0)} µs a turn (scored once each, in this process)`);
  const results = new Map<BackendName, IngestFigures[]>();
  for (const name of backends) {
    const backend = await createBackend(name, ctx.dir);
    try {
      results.set(name, await ingestOn(ctx, backend, name));
    } finally {
      await backend.cleanup();
    }
  }
  const rows: Row[] = [
    {
      section: 'ingest',
      backend: 'baseline',
      metric: 'sentiment model, one turn',
      value: Math.round(sentimentUs),
      unit: 'µs',
      detail: `CPU to score one new turn; a batch of 20 scores 12 of them (${Math.round((sentimentUs * 12) / 20)} µs an event)`,
    },
  ];
  const targets: Target[] = [];
  const embedded = results.get('embedded');
  for (const [name, figures] of results) {
    for (const f of figures) {
      const kind = KINDS.find((k) => k.name === f.kind) as Kind;
      rows.push({
        section: 'ingest',
        backend: name,
        metric: f.kind,
        value: Math.round(f.eventsPerSecond),
        unit: 'events/s',
        detail: `${f.cpuUsPerEvent?.toFixed(0) ?? '?'} µs server CPU/event; saturated p50/p99 ${f.saturated.p50.toFixed(1)}/${f.saturated.p99.toFixed(1)} ms; at ${f.halfRate}/s p50/p99 ${f.atHalfRate.p50.toFixed(1)}/${f.atHalfRate.p99.toFixed(1)} ms, ${halfRateCpu(f)} (${describeStalls(f.stalls)})`,
      });
      if (name === 'embedded') {
        targets.push({
          section: 'ingest',
          backend: name,
          target: `${f.kind} >= ${kind.target}/s`,
          measured: `${Math.round(f.eventsPerSecond)}/s`,
          pass: f.eventsPerSecond >= kind.target,
        });
      } else {
        const ref = embedded?.find((e) => e.kind === f.kind);
        if (ref) {
          targets.push({
            section: 'ingest',
            backend: name,
            target: `${f.kind} >= half of embedded (${Math.round(ref.eventsPerSecond / 2)}/s)`,
            measured: `${Math.round(f.eventsPerSecond)}/s (${(f.eventsPerSecond / ref.eventsPerSecond).toFixed(2)}x)`,
            pass: f.eventsPerSecond >= ref.eventsPerSecond / 2,
          });
        }
      }
      targets.push({
        section: 'ingest',
        backend: name,
        target: `${f.kind} p99 < ${P99_TARGET_MS} ms at ${f.halfRate}/s`,
        measured: `${f.atHalfRate.p99.toFixed(1)} ms`,
        pass: f.atHalfRate.p99 < P99_TARGET_MS && f.atHalfRate.errors === 0 && f.atHalfRate.non2xx === 0,
      });
    }
  }
  return { rows, targets, raw: { sentimentMicrosPerTurn: sentimentUs, ...Object.fromEntries(results) } };
}
