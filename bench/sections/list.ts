/**
 * List: GET /v2/api/active-calls for workspaces of 10, 100 and 1,000 active calls while calls keep changing
 * (about 1,000 ingested events/s spread over all of them), compared in the same run with two bare node:http
 * servers answering the same payload: (a) JSON.stringify per request, (b) pre-serialised bytes. The baselines
 * run without the background ingest: they are the machine's limit for that payload, not a store.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BACKENDS, createBackend, seedTenants, type Backend, type BackendName } from '../lib/backends.ts';
import { cpuSeconds, cpuUsPerRequest, load, type LoadResult } from '../lib/cannon.ts';
import { startChurn, type ChurnTotals } from '../lib/churn.ts';
import { logFile, seconds, type BenchContext, type Row, type SectionResult, type Target } from '../lib/context.ts';
import { seedCalls } from '../lib/seed.ts';
import { startChild, startLivecalls, waitReady } from '../lib/server.ts';
import { freePort } from '../../test/helpers/server-process.ts';

export const SIZES = [10, 100, 1_000] as const;
const CONNECTIONS = 16;
const CHURN_RATE = 1_000;

interface ListRun {
  size: number;
  result: LoadResult;
}

interface BackendRuns {
  runs: ListRun[];
  churn: ChurnTotals | undefined;
  /** Server CPU seconds per second the background ingest alone took: the mean of `backgroundWindows`. */
  backgroundCpu: number;
  /** The same, measured before and after the list runs. */
  backgroundWindows: number[];
  /** The list answers, per size, for the baselines to serve. */
  payloads: Map<number, string>;
}

async function listOn(ctx: BenchContext, backend: Backend): Promise<BackendRuns> {
  const tenants = await seedTenants(backend, SIZES.length);
  const server = await startLivecalls({ ...backend.env, LIVECALLS_RATE_LIMIT: '0' }, logFile(ctx, `list-${backend.name}`), {
    cpus: ctx.cores.server,
    nodeFlags: ctx.serverFlags,
  });
  try {
    const rooms = [];
    for (const [i, size] of SIZES.entries()) rooms.push(...(await seedCalls(server.url, [tenants[i] as (typeof tenants)[number]], size)));
    const payloads = new Map<number, string>();
    const headersOf = (i: number) => ({ 'x-api-key': tenants[i]?.apiKey ?? '', 'x-workspace-id': tenants[i]?.workspaceId ?? '' });
    for (const [i, size] of SIZES.entries()) {
      const res = await fetch(`${server.url}/v2/api/active-calls`, { headers: headersOf(i) });
      const text = await res.text();
      const count = (JSON.parse(text) as { count: number }).count;
      if (res.status !== 200 || count !== size) throw new Error(`list of ${size}: HTTP ${res.status}, count ${count}`);
      payloads.set(size, text);
    }
    const rate = ctx.listChurn ?? CHURN_RATE;
    const churn = rate > 0 ? startChurn(ctx, server.url, rooms, rate) : undefined;
    const runs: ListRun[] = [];
    let totals: ChurnTotals | undefined;
    const backgroundWindows: number[] = [];
    let backgroundCpu = 0;
    try {
      // What the background alone costs the server, so a list request's own CPU can be told apart: measured
      // before the lists and again after them (it moves by tens of percent from one few-second window to the
      // next), the mean of the two used.
      const alone = async () => {
        const before = cpuSeconds(server.proc.pid ?? 0) ?? 0;
        const window = seconds(ctx, 4, 1);
        await new Promise((resolve) => setTimeout(resolve, window * 1_000));
        return ((cpuSeconds(server.proc.pid ?? 0) ?? 0) - before) / window;
      };
      if (churn) {
        await new Promise((resolve) => setTimeout(resolve, seconds(ctx, 3, 1) * 1_000));
        backgroundWindows.push(await alone());
      }
      for (const [i, size] of SIZES.entries()) {
        const common = {
          url: `${server.url}/v2/api/active-calls`,
          connections: CONNECTIONS,
          headers: headersOf(i),
          serverPid: server.proc.pid,
        };
        await load({ ...common, duration: 1 });
        const result = await load({ ...common, duration: seconds(ctx, 5) });
        if (result.errors || result.non2xx) ctx.log(`  list ${size}: ${result.errors} errors, ${result.non2xx} non-2xx`);
        ctx.log(
          `  ${backend.name} list of ${size}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
        );
        runs.push({ size, result });
      }
      if (churn) {
        backgroundWindows.push(await alone());
        backgroundCpu = backgroundWindows.reduce((a, b) => a + b, 0) / backgroundWindows.length;
        ctx.log(`  background ingest alone: ${backgroundWindows.map((w) => `${(w * 100).toFixed(0)}%`).join(' before, ')} after the lists`);
      }
    } finally {
      totals = await churn?.stop();
    }
    if (totals)
      ctx.log(
        `  background ingest: ${totals.rps.toFixed(0)} events/s (p99 ${totals.p99.toFixed(1)} ms, ${totals.errors + totals.non2xx} failed)`,
      );
    return { runs, churn: totals, backgroundCpu, backgroundWindows, payloads };
  } finally {
    await server.kill();
  }
}

type BaselineMode = 'stringify' | 'bytes' | 'fastify';
const LETTER: Record<BaselineMode, string> = { stringify: 'a', bytes: 'b', fastify: 'c' };

async function baseline(ctx: BenchContext, mode: BaselineMode, size: number, payload: string): Promise<LoadResult> {
  const file = path.join(ctx.dir, `payload-${size}.json`);
  writeFileSync(file, payload);
  const port = await freePort();
  const child = startChild(
    ['bench/baseline-server.ts', mode, file, String(port)],
    {},
    logFile(ctx, `baseline-${mode}-${size}`),
    ctx.cores.server,
  );
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitReady(url, child, 20_000);
    await load({ url, connections: CONNECTIONS, duration: 1 });
    const result = await load({ url, connections: CONNECTIONS, duration: seconds(ctx, 5), serverPid: child.proc.pid });
    ctx.log(`  baseline (${LETTER[mode]}) ${mode} ${size}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms`);
    return result;
  } finally {
    await child.kill();
  }
}

export async function runList(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const byBackend = new Map<BackendName, BackendRuns>();
  for (const name of backends) {
    const backend = await createBackend(name, ctx.dir);
    try {
      byBackend.set(name, await listOn(ctx, backend));
    } finally {
      await backend.cleanup();
    }
  }
  // The baselines serve the payload of the first backend measured (the same shape on every backend).
  const first = [...byBackend.values()][0];
  const baselines = new Map<number, { a: LoadResult; b: LoadResult; c: LoadResult }>();
  for (const size of SIZES) {
    const payload = first?.payloads.get(size);
    if (!payload) continue;
    baselines.set(size, {
      a: await baseline(ctx, 'stringify', size, payload),
      b: await baseline(ctx, 'bytes', size, payload),
      c: await baseline(ctx, 'fastify', size, payload),
    });
  }
  const cpu = (r: LoadResult, background = 0) => `${cpuUsPerRequest(r, background).toFixed(0)} µs server CPU a request`;
  // The same ratios by server CPU a request rather than by requests a second: what the list itself costs next
  // to the baselines, whatever share of the core the background took.
  const byCpu = (r: LoadResult, background: number, b: { a: LoadResult; b: LoadResult } | undefined) => {
    const own = cpuUsPerRequest(r, background);
    if (!b) return '';
    const ratio = (base: LoadResult) => (cpuUsPerRequest(base) / own).toFixed(2);
    return `by CPU: ${ratio(b.a)}x (a), ${ratio(b.b)}x (b)`;
  };

  const rows: Row[] = [];
  const targets: Target[] = [];
  for (const [size, b] of baselines) {
    const bytes = Buffer.byteLength(first?.payloads.get(size) ?? '');
    rows.push({
      section: 'list',
      backend: 'baseline',
      metric: `(a) JSON.stringify, ${size} calls`,
      value: Math.round(b.a.rps),
      unit: 'req/s',
      detail: `p50/p99 ${b.a.p50.toFixed(2)}/${b.a.p99.toFixed(2)} ms; ${cpu(b.a)}; ${(bytes / 1024).toFixed(0)} KiB a response`,
    });
    rows.push({
      section: 'list',
      backend: 'baseline',
      metric: `(b) pre-serialised, ${size} calls`,
      value: Math.round(b.b.rps),
      unit: 'req/s',
      detail: `p50/p99 ${b.b.p50.toFixed(2)}/${b.b.p99.toFixed(2)} ms; ${cpu(b.b)}`,
    });
    rows.push({
      section: 'list',
      backend: 'baseline',
      metric: `(c) bare Fastify route, same bytes, ${size} calls`,
      value: Math.round(b.c.rps),
      unit: 'req/s',
      detail: `${(b.c.rps / b.b.rps).toFixed(2)}x (b); p50/p99 ${b.c.p50.toFixed(2)}/${b.c.p99.toFixed(2)} ms; ${cpu(b.c)}; not a target: the floor of any Fastify route`,
    });
  }
  const embedded = byBackend.get('embedded');
  for (const [name, { runs, churn, backgroundCpu, backgroundWindows }] of byBackend) {
    const windows = backgroundWindows.map((w) => `${(w * 100).toFixed(0)}%`).join(' before the lists, ');
    for (const { size, result } of runs) {
      const b = baselines.get(size);
      const ra = b ? result.rps / b.a.rps : Number.NaN;
      const rb = b ? result.rps / b.b.rps : Number.NaN;
      rows.push({
        section: 'list',
        backend: name,
        metric: `livecalls, ${size} calls`,
        value: Math.round(result.rps),
        unit: 'req/s',
        detail:
          `${ra.toFixed(2)}x (a), ${rb.toFixed(2)}x (b); p50/p99 ${result.p50.toFixed(2)}/${result.p99.toFixed(2)} ms; ` +
          `${cpu(result, backgroundCpu)} besides the background (${byCpu(result, backgroundCpu, b)}); ` +
          `background ${churn ? `${churn.rps.toFixed(0)} events/s, ${(backgroundCpu * 100).toFixed(0)}% of the server's core (${windows} after)` : 'none'}`,
      });
      if (name === 'embedded') {
        if (size === 100) {
          targets.push({
            section: 'list',
            backend: name,
            target: '100 calls >= 2x baseline (a)',
            measured: `${ra.toFixed(2)}x`,
            pass: ra >= 2,
          });
          targets.push({
            section: 'list',
            backend: name,
            target: '100 calls >= 0.5x baseline (b)',
            measured: `${rb.toFixed(2)}x`,
            pass: rb >= 0.5,
          });
        }
        if (size === 1_000)
          targets.push({
            section: 'list',
            backend: name,
            target: '1,000 calls >= 5x baseline (a)',
            measured: `${ra.toFixed(2)}x`,
            pass: ra >= 5,
          });
      } else {
        const ref = embedded?.runs.find((r) => r.size === size)?.result;
        if (ref) {
          const ratio = result.rps / ref.rps;
          targets.push({
            section: 'list',
            backend: name,
            target: `${size} calls >= half of embedded (${Math.round(ref.rps / 2)} req/s)`,
            measured: `${Math.round(result.rps)} req/s (${ratio.toFixed(2)}x)`,
            pass: ratio >= 0.5,
          });
        }
      }
    }
  }
  const raw = {
    baselines: Object.fromEntries(baselines),
    backends: Object.fromEntries(
      [...byBackend].map(([n, r]) => [
        n,
        { runs: r.runs, churn: r.churn, backgroundCpu: r.backgroundCpu, backgroundWindows: r.backgroundWindows },
      ]),
    ),
  };
  return { rows, targets, raw };
}
