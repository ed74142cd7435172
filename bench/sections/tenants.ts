/**
 * Tenants: one workspace's list of 10 calls is measured alone in the store, then again once 999 other
 * workspaces hold 10 calls each (1,000 x 10). Listing must cost the same: it may depend on the workspace's
 * own calls, never on anyone else's. Compared by the server's CPU time per list request (least disturbed by
 * other load on the machine) and by throughput and latency.
 */
import { BACKENDS, createBackend, seedTenants, type Backend, type BackendName } from '../lib/backends.ts';
import { cpuUsPerRequest, load, type LoadResult } from '../lib/cannon.ts';
import { logFile, seconds, type BenchContext, type Row, type SectionResult, type Target } from '../lib/context.ts';
import { seedCalls } from '../lib/seed.ts';
import { startLivecalls } from '../lib/server.ts';

const WORKSPACES = 1_000;
const CALLS_EACH = 10;
const CONNECTIONS = 8;
/** Allowed growth of the cost of a list when the rest of the store fills up. */
const TOLERANCE = 1.25;

interface Phase {
  result: LoadResult;
  cpuUsPerRequest: number;
}

interface TenantFigures {
  alone: Phase;
  crowded: Phase;
  /** Another workspace measured once the store is full, for comparison. */
  other: Phase;
  seedSeconds: number;
}

async function tenantsOn(ctx: BenchContext, backend: Backend): Promise<TenantFigures> {
  const tenants = await seedTenants(backend, WORKSPACES);
  const [first, ...rest] = tenants;
  if (!first) throw new Error('no tenant');
  const server = await startLivecalls({ ...backend.env, LIVECALLS_RATE_LIMIT: '0' }, logFile(ctx, `tenants-${backend.name}`), {
    cpus: ctx.cores.server,
    nodeFlags: ctx.serverFlags,
  });
  const measure = async (t: (typeof tenants)[number]): Promise<Phase> => {
    const common = {
      url: `${server.url}/v2/api/active-calls`,
      connections: CONNECTIONS,
      headers: { 'x-api-key': t.apiKey, 'x-workspace-id': t.workspaceId },
      serverPid: server.proc.pid,
    };
    await load({ ...common, duration: 1 });
    const result = await load({ ...common, duration: seconds(ctx, 4) });
    if (result.errors || result.non2xx) ctx.log(`  tenants: ${result.errors} errors, ${result.non2xx} non-2xx`);
    return { result, cpuUsPerRequest: cpuUsPerRequest(result) };
  };
  try {
    await seedCalls(server.url, [first], CALLS_EACH, { webhooks: false });
    const alone = await measure(first);
    const began = performance.now();
    await seedCalls(server.url, rest, CALLS_EACH, { webhooks: false });
    const seedSeconds = (performance.now() - began) / 1000;
    const crowded = await measure(first);
    const other = await measure(rest[rest.length >> 1] ?? first);
    ctx.log(
      `  ${backend.name}: alone ${alone.result.rps.toFixed(0)} req/s, ${alone.cpuUsPerRequest.toFixed(0)} µs CPU, p50 ${alone.result.p50.toFixed(2)} ms; among ${WORKSPACES} workspaces ${crowded.result.rps.toFixed(0)} req/s, ${crowded.cpuUsPerRequest.toFixed(0)} µs CPU, p50 ${crowded.result.p50.toFixed(2)} ms (seeded ${((WORKSPACES - 1) * CALLS_EACH).toLocaleString('en-US')} calls in ${seedSeconds.toFixed(0)} s)`,
    );
    return { alone, crowded, other, seedSeconds };
  } finally {
    await server.kill();
  }
}

export async function runTenants(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const results = new Map<BackendName, TenantFigures>();
  for (const name of backends) {
    const backend = await createBackend(name, ctx.dir);
    try {
      results.set(name, await tenantsOn(ctx, backend));
    } finally {
      await backend.cleanup();
    }
  }
  const rows: Row[] = [];
  const targets: Target[] = [];
  for (const [name, f] of results) {
    const describe = (p: Phase) =>
      `${p.cpuUsPerRequest.toFixed(0)} µs server CPU a request, p50/p99 ${p.result.p50.toFixed(2)}/${p.result.p99.toFixed(2)} ms`;
    rows.push({
      section: 'tenants',
      backend: name,
      metric: `list of ${CALLS_EACH}, alone in the store`,
      value: Math.round(f.alone.result.rps),
      unit: 'req/s',
      detail: describe(f.alone),
    });
    rows.push({
      section: 'tenants',
      backend: name,
      metric: `same list, ${WORKSPACES.toLocaleString('en-US')} workspaces x ${CALLS_EACH} calls`,
      value: Math.round(f.crowded.result.rps),
      unit: 'req/s',
      detail: `${describe(f.crowded)}; another workspace: ${Math.round(f.other.result.rps)} req/s, ${describe(f.other)}`,
    });
    const growth = f.crowded.cpuUsPerRequest / f.alone.cpuUsPerRequest;
    targets.push({
      section: 'tenants',
      backend: name,
      target: `list cost with ${WORKSPACES.toLocaleString('en-US')} workspaces <= ${TOLERANCE}x alone (server CPU a request)`,
      measured: `${growth.toFixed(2)}x (${f.alone.cpuUsPerRequest.toFixed(0)} -> ${f.crowded.cpuUsPerRequest.toFixed(0)} µs)`,
      pass: growth <= TOLERANCE,
    });
  }
  return { rows, targets, raw: Object.fromEntries(results) };
}
