/**
 * Ingest and list throughput of the scaled-out backends (Redis + PostgreSQL) against the embedded store,
 * measured in one run on this machine, over HTTP against real server processes. Prints ratios.
 * Usage: npx tsx bench/scale-out.ts [--calls 100] [--events 4000] [--concurrency 16]
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openTenants } from '../src/store/open.ts';
import { loadConfig } from '../src/config.ts';
import { createDatabase, dropRedisPrefix, randomName, REDIS_URL } from '../test/helpers/backends.ts';
import { tempDir } from '../test/helpers/app.ts';
import { startServer } from '../test/helpers/server-process.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    events: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const CALLS = Number(values.calls);
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);

async function pool(n: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await work(next++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

async function measure(label: string, env: Record<string, string>): Promise<{ ingest: number; list: number }> {
  const tenants = await openTenants(loadConfig(env));
  const ws = await tenants.tenants.createWorkspace('bench', Date.now());
  const { apiKey } = await tenants.tenants.createKey(ws.id, Date.now());
  await tenants.close();
  const server = await startServer({ ...env, LOG_LEVEL: 'error', LIVECALLS_RATE_LIMIT: '0' });
  const headers = { 'x-api-key': apiKey, 'x-workspace-id': ws.id, 'content-type': 'application/json' };
  try {
    const ingest = await pool(EVENTS, async (i) => {
      const body = JSON.stringify({
        events: [
          { id: `e${i}`, createdAt: Date.now(), type: 'transcript', role: i % 2 ? 'customer' : 'agent', content: `turn ${i} of the call` },
        ],
      });
      const res = await fetch(`${server.url}/v2/api/active-calls/call-${i % CALLS}/events`, { method: 'POST', headers, body });
      if (res.status !== 202) throw new Error(`ingest ${res.status}`);
      await res.arrayBuffer();
    });
    const list = await pool(EVENTS / 2, async () => {
      const res = await fetch(`${server.url}/v2/api/active-calls`, { headers });
      if (res.status !== 200) throw new Error(`list ${res.status}`);
      await res.arrayBuffer();
    });
    console.log(
      `${label.padEnd(22)} ingest ${ingest.toFixed(0).padStart(6)} events/s   list(${CALLS} calls) ${list.toFixed(0).padStart(6)} req/s`,
    );
    return { ingest, list };
  } finally {
    await server.kill();
  }
}

const dir = tempDir('livecalls-bench-');
const db = await createDatabase();
const prefix = randomName('lcbench');
try {
  console.log(`single events over HTTP, ${CONCURRENCY} concurrent requests from one client process; server and client share the 2 cores`);
  const embedded = await measure('embedded', { LIVECALLS_DATA_DIR: `${dir}/embedded` });
  const scaled = await measure('Redis + PostgreSQL', {
    LIVECALLS_DATA_DIR: `${dir}/scaled`,
    REDIS_URL,
    DATABASE_URL: db.url,
    LIVECALLS_REDIS_PREFIX: prefix,
  });
  console.log(
    `ratio Redis+PostgreSQL / embedded: ingest ${(scaled.ingest / embedded.ingest).toFixed(2)}, list ${(scaled.list / embedded.list).toFixed(2)}`,
  );
} finally {
  await db.drop();
  await dropRedisPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
}
