/**
 * History: a workspace with N archived calls (1,000,000 by default; `--history-calls` to run smaller) spread
 * over 90 days, seeded by bench/lib/history-seed.ts, then three questions asked through the app (routing,
 * validation, store, serialisation; in process, so no network in the figure) 200 times each:
 *  - a filtered page: one agent's negative calls of the last 7 days, page 1 of 10;
 *  - a full-text search: a caller's surname (in about one call of 200), page 1 of 10;
 *  - statistics of the last 24 hours in 5-minute buckets.
 * Baseline, measured in the same run and database: the same questions for a workspace of 1,000 calls.
 * Seeding time and database size per call are printed. Target: p95 under 50 ms for each, on both backends.
 */
import { statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices } from '../../src/services.ts';
import { openStores } from '../../src/store/open.ts';
import { BACKENDS, createBackend, type BackendName } from '../lib/backends.ts';
import type { BenchContext, Row, SectionResult, Target } from '../lib/context.ts';
import { AGENTS, LAST } from '../lib/history-data.ts';
import { seedEmbeddedHistory, seedPostgresHistory, type SeedSpec } from '../lib/history-seed.ts';

const TARGET_MS = 50;
const DAYS = 90;
const BASELINE_CALLS = 1_000;
const RUNS = 200;

interface Latency {
  p50: number;
  p95: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

async function historyOn(ctx: BenchContext, name: BackendName, calls: number) {
  const backend = await createBackend(name, ctx.dir);
  const config = loadConfig({ ...backend.env, LOG_LEVEL: 'silent', LIVECALLS_RATE_LIMIT: '0' });
  const stores = await openStores(config);
  const services = createServices(config, { stores, log: pino({ level: 'silent' }) });
  const app = await buildApp(services);
  try {
    const now = Date.now();
    const workspace = async (label: string) => {
      const ws = await stores.tenants.createWorkspace(label, now);
      const { apiKey } = await stores.tenants.createKey(ws.id, now);
      return { id: ws.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
    };
    const [big, small] = [await workspace('history big'), await workspace('history baseline')];
    const seed = (spec: SeedSpec) =>
      config.databaseUrl ? seedPostgresHistory(config.databaseUrl, spec) : seedEmbeddedHistory(config.dataDir, spec);
    const sizeBefore = await dbSize(config);
    let reported = 0;
    const began = performance.now();
    await seed({
      workspaceId: big.id,
      calls,
      endAt: now,
      days: DAYS,
      progress: (done) => {
        if (done - reported >= 100_000) {
          reported = done;
          ctx.log(`  ${name}: ${done.toLocaleString('en-US')} calls seeded (${((performance.now() - began) / 1000).toFixed(0)} s)`);
        }
      },
    });
    const seedSeconds = (performance.now() - began) / 1000;
    const bytesPerCall = ((await dbSize(config)) - sizeBefore) / calls;
    await seed({ workspaceId: small.id, calls: BASELINE_CALLS, endAt: now, days: DAYS, seed: 7 });
    ctx.log(
      `  ${name}: seeded ${calls.toLocaleString('en-US')} calls in ${seedSeconds.toFixed(1)} s; ${bytesPerCall.toFixed(0)} bytes a call`,
    );

    const queries = {
      page: `/v2/api/call-history?agent=${encodeURIComponent(AGENTS[2] as string)}&sentiment=negative&dateRange=${encodeURIComponent(
        JSON.stringify({ from: now - 7 * 86_400_000 }),
      )}`,
      search: `/v2/api/call-history?search=${encodeURIComponent(LAST[17] as string)}`,
      stats: `/v2/api/stats?from=${now - 86_400_000}&to=${now}&bucket=5m`,
    };
    const measure = async (url: string, headers: Record<string, string>): Promise<Latency> => {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 10; i++) {
        const t0 = performance.now();
        const res = await app.inject({ url, headers });
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (i >= 10) times.push(ms);
      }
      times.sort((a, b) => a - b);
      return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
    };
    const figures: Record<string, { big: Latency; baseline: Latency; total: number }> = {};
    for (const [key, url] of Object.entries(queries)) {
      const res = await app.inject({ url, headers: big.headers });
      const body = res.json() as { pagination?: { total: number }; totals?: { calls: number } };
      figures[key] = {
        big: await measure(url, big.headers),
        baseline: await measure(url, small.headers),
        total: body.pagination?.total ?? body.totals?.calls ?? 0,
      };
    }
    return { seedSeconds, bytesPerCall, figures };
  } finally {
    await app.close();
    await services.close();
    await backend.cleanup();
  }
}

async function dbSize(config: ReturnType<typeof loadConfig>): Promise<number> {
  if (config.databaseUrl) {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]?.n);
    } finally {
      await client.end();
    }
  }
  return readdirSync(config.dataDir)
    .filter((f) => f.startsWith('livecalls.db'))
    .reduce((sum, f) => sum + statSync(path.join(config.dataDir, f)).size, 0);
}

export async function runHistory(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const calls = ctx.historyCalls ?? (ctx.quick ? 20_000 : 1_000_000);
  const rows: Row[] = [];
  const targets: Target[] = [];
  const raw: Record<string, unknown> = { calls, days: DAYS, runs: RUNS, baselineCalls: BASELINE_CALLS };
  for (const name of backends) {
    const r = await historyOn(ctx, name, calls);
    raw[name] = r;
    rows.push(
      {
        section: 'history',
        backend: name,
        metric: `seeding ${calls.toLocaleString('en-US')} calls`,
        value: Math.round(r.seedSeconds),
        unit: 's',
        detail: `${Math.round(calls / r.seedSeconds).toLocaleString('en-US')} calls/s`,
      },
      {
        section: 'history',
        backend: name,
        metric: 'database size per call',
        value: Math.round(r.bytesPerCall),
        unit: 'bytes',
        detail: '4-turn transcripts, indexes included',
      },
    );
    for (const [key, f] of Object.entries(r.figures)) {
      const label = key === 'page' ? 'filtered page p95' : key === 'search' ? 'full-text search p95' : '24 h stats, 5m buckets p95';
      rows.push({
        section: 'history',
        backend: name,
        metric: label,
        value: Math.round(f.big.p95 * 10) / 10,
        unit: 'ms',
        detail: `p50 ${f.big.p50.toFixed(1)} ms; ${(f.big.p95 / f.baseline.p95).toFixed(2)}x the ${BASELINE_CALLS.toLocaleString('en-US')}-call baseline (p95 ${f.baseline.p95.toFixed(1)} ms); ${f.total.toLocaleString('en-US')} matching`,
      });
      targets.push({
        section: 'history',
        backend: name,
        target: `${label} < ${TARGET_MS} ms`,
        measured: `${f.big.p95.toFixed(1)} ms`,
        pass: f.big.p95 < TARGET_MS,
      });
    }
  }
  return { rows, targets, raw };
}
