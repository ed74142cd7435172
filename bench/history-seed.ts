/**
 * Seeds archived calls for trying the call history at scale (the bench's history section uses the same
 * generator):
 *
 *   npx tsx bench/history-seed.ts --workspace ws_… --calls 1000000 [--days 90]
 *
 * into the store the configuration names (LIVECALLS_DATA_DIR, or DATABASE_URL for PostgreSQL). The calls end
 * before now, spread over `--days`. Stop the server first on the embedded store.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { seedEmbeddedHistory, seedPostgresHistory } from './lib/history-seed.ts';

const { values } = parseArgs({
  options: { workspace: { type: 'string' }, calls: { type: 'string', default: '1000000' }, days: { type: 'string', default: '90' } },
});
if (!values.workspace) throw new Error('--workspace is required (the workspace id the calls belong to)');
const config = loadConfig();
const spec = {
  workspaceId: values.workspace,
  calls: Number(values.calls),
  endAt: Date.now(),
  days: Number(values.days),
  progress: (done: number) => {
    if (done % 100_000 === 0) console.log(`${done.toLocaleString('en-US')} calls`);
  },
};
const began = performance.now();
if (config.databaseUrl) await seedPostgresHistory(config.databaseUrl, spec);
else await seedEmbeddedHistory(config.dataDir, spec);
console.log(`seeded ${spec.calls.toLocaleString('en-US')} calls in ${((performance.now() - began) / 1000).toFixed(1)} s`);
