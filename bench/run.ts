/**
 * `npm run bench`: every measurement of livecalls on this machine, on the embedded store and on Redis +
 * PostgreSQL, printed as one table with the targets marked pass/miss, and written to
 * bench/results/latest.json. The server runs as a child process; the load generator (autocannon) runs here,
 * in another process, pinned to other cores when the machine allows.
 *
 *   npm run bench                          the full run (about 10 minutes)
 *   npm run bench -- --quick               a short smoke run (about 2 minutes)
 *   npm run bench -- --only ingest,list    some sections (list, ingest, freshness, memory, tenants, alerts)
 *   npm run bench -- --backend embedded    one backend (embedded, redis+pg)
 *   npm run bench -- --server-flags=--cpu-prof,--cpu-prof-dir=/tmp/prof   profile the server processes
 *   npm run bench -- --only ingest --ingest-kinds webhooks                   one kind of ingest (batch20, single, webhooks)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from './lib/backends.ts';
import type { BenchContext, Row, SectionResult, Target } from './lib/context.ts';
import { pinSelf, planCores } from './lib/server.ts';
import { runAlerts } from './sections/alerts.ts';
import { runFreshness } from './sections/freshness.ts';
import { runIngest } from './sections/ingest.ts';
import { runList } from './sections/list.ts';
import { runMemory } from './sections/memory.ts';
import { runTenants } from './sections/tenants.ts';

const SECTIONS: Record<string, (ctx: BenchContext, backends: readonly BackendName[]) => Promise<SectionResult>> = {
  list: runList,
  ingest: runIngest,
  freshness: runFreshness,
  memory: runMemory,
  tenants: runTenants,
  alerts: (ctx) => runAlerts(ctx),
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    backend: { type: 'string' },
    'server-flags': { type: 'string' },
    'ingest-kinds': { type: 'string' },
    'list-churn': { type: 'string' },
    out: { type: 'string' },
  },
});

const only = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SECTIONS);
for (const s of only) if (!SECTIONS[s]) throw new Error(`unknown section "${s}" (${Object.keys(SECTIONS).join(', ')})`);
const backends = (values.backend ? values.backend.split(',') : BACKENDS) as BackendName[];
for (const b of backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend "${b}" (${BACKENDS.join(', ')})`);

const cpuCount = os.availableParallelism();
const cores = planCores(cpuCount);
pinSelf(cores.load);
const dir = mkdtempSync(path.join(os.tmpdir(), 'livecalls-bench-'));
const ctx: BenchContext = {
  dir,
  quick: values.quick,
  cores,
  serverFlags: values['server-flags'] ? values['server-flags'].split(',') : [],
  ...(values['ingest-kinds'] ? { ingestKinds: values['ingest-kinds'].split(',') } : {}),
  ...(values['list-churn'] !== undefined ? { listChurn: Number(values['list-churn']) } : {}),
  log: (line) => console.log(line),
};

const machine = `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpuCount} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
const started = new Date();
console.log(`livecalls benchmark ${started.toISOString()}${values.quick ? ' (--quick)' : ''}`);
console.log(`machine: ${machine}`);
console.log(`cores: ${cores.description}`);

const rows: Row[] = [];
const targets: Target[] = [];
const raw: Record<string, unknown> = {};
let failed = false;
try {
  for (const name of only) {
    const t0 = performance.now();
    console.log(`\n== ${name}`);
    try {
      const result = await (SECTIONS[name] as (typeof SECTIONS)[string])(ctx, backends);
      rows.push(...result.rows);
      targets.push(...result.targets);
      raw[name] = result.raw;
    } catch (err) {
      failed = true;
      console.error(`section ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      raw[name] = { error: String(err) };
    }
    console.log(`   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

printTable(rows, targets);
const outFile = values.out ?? path.join(import.meta.dirname, 'results', values.quick ? 'latest-quick.json' : 'latest.json');
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    { date: started.toISOString(), quick: values.quick, machine, cores: cores.description, rows, targets, raw },
    (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v),
    2,
  ) + '\n',
);
console.log(`\nwritten to ${path.relative(process.cwd(), outFile)}; took ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);

function printTable(rows: readonly Row[], targets: readonly Target[]): void {
  const table = rows.map((r) => [r.section, r.backend, r.metric, r.value.toLocaleString('en-US'), r.unit, r.detail ?? '']);
  printColumns(['section', 'backend', 'measurement', 'value', 'unit', 'detail'], table, [3]);
  console.log('');
  printColumns(
    ['section', 'backend', 'target', 'measured', 'result'],
    targets.map((t) => [t.section, t.backend, t.target, t.measured, t.pass ? 'pass' : 'MISS']),
    [],
  );
}

function printColumns(head: string[], body: string[][], rightAligned: number[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log('\n' + line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(line(r));
}
