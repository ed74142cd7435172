/**
 * Background ingest for the list and freshness measurements: single transcript events at an even rate,
 * round-robin over the given rooms, until SIGTERM; then prints what it did as one JSON line. Run as its own
 * process so it does not share an event loop with the load generator it runs beside.
 * Usage: node --import tsx bench/churn.ts CONFIG.json   (config: { url, rate, rooms: SeededRoom[] })
 */
import { readFileSync } from 'node:fs';
import type { SeededRoom } from './lib/seed.ts';
import { paced } from './lib/paced.ts';
import { runId, transcriptBatch } from './lib/payloads.ts';

const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as { url: string; rate: number; rooms: SeededRoom[] };
const prefix = `bg-${runId()}`;
let seq = 0;
let stop = false;
process.on('SIGTERM', () => (stop = true));

const r = await paced({
  url: config.url,
  rate: config.rate,
  duration: 3600,
  until: () => stop,
  method: 'POST',
  next: () => {
    const n = seq++;
    const room = config.rooms[n % config.rooms.length] as SeededRoom;
    return {
      path: `/v2/api/active-calls/${room.roomName}/events`,
      body: transcriptBatch(prefix, n, 1),
      headers: { 'content-type': 'application/json', 'x-api-key': room.apiKey, 'x-workspace-id': room.workspaceId },
    };
  },
});
const totals = { requests: r.requests, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx };
process.stdout.write(JSON.stringify(totals) + '\n');
process.exit(0);
