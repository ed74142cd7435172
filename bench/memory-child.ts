/**
 * Memory per active call, measured in a process of its own (run with --expose-gc): the services are built as
 * the server builds them (createServices over openStores, store settings from the environment), calls are
 * ingested straight through CallService.ingest (one batch per call: the caller's details and a 20-turn
 * transcript), and RSS after a full GC is compared with RSS before the first call. Prints one JSON line per
 * checkpoint. Usage: node --expose-gc --import tsx bench/memory-child.ts 10000,100000
 *
 * Transcript texts repeat across calls (a pool of 2,000 sentences), so sentiment scoring is mostly
 * remembered rather than redone and seeding 100,000 calls takes a minute rather than many; each call still
 * holds its own copy of every string, as calls parsed from requests do.
 */
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import type { CallEvent } from '../src/domain/events.ts';
import { createServices } from '../src/services.ts';
import { openStores } from '../src/store/open.ts';
import { turnText } from './lib/payloads.ts';

const TURNS = 20;
const TEXTS = 2_000;
const CONCURRENCY = 64;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const checkpoints = (process.argv[2] ?? '10000').split(',').map(Number);

function settledRss(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage.rss();
}

const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
const stores = await openStores(config);
const services = createServices(config, { stores, log: pino({ level: 'silent' }) });
const ws = await stores.tenants.createWorkspace('memory', Date.now());
const baseline = settledRss();
const start = Date.now() - 600_000;

/** The events of call n, as fresh objects and strings (as if parsed from a request). */
function eventsOf(n: number): { room: string; events: CallEvent[]; textBytes: number } {
  const room = `mem-${n}`;
  const events: CallEvent[] = [
    {
      type: 'customer_info',
      id: `${room}:ci`,
      at: start + n,
      name: `Caller ${n}`,
      phone: `+1415555${String(n % 10_000).padStart(4, '0')}`,
    },
  ];
  let textBytes = 0;
  for (let t = 0; t < TURNS; t++) {
    const { role, content } = turnText((n * TURNS + t) % TEXTS);
    textBytes += Buffer.byteLength(content);
    events.push({ type: 'transcript', id: `${room}:t${t}`, at: start + n + t * 1000, role, content });
  }
  return { room, events: JSON.parse(JSON.stringify(events)) as CallEvent[], textBytes };
}

/**
 * What a call's bounded transcript costs on its own (20 turn objects with their strings, as a call holds
 * them), measured on the heap: the target reads "per active call plus its bounded transcript".
 */
function transcriptHeapBytes(): number {
  const sample = 5_000;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: sample }, (_, n) =>
    eventsOf(1_000_000 + n).events.flatMap((e) =>
      e.type === 'transcript' ? [{ id: e.id, role: e.role, content: e.content, at: e.at }] : [],
    ),
  );
  gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / sample;
  if (kept.length !== sample) throw new Error('unreachable');
  return bytes;
}
let next = 0;
let textBytes = 0;
const lines: Record<string, number>[] = [];
for (const target of checkpoints) {
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < target) {
        const e = eventsOf(next++);
        textBytes += e.textBytes;
        const result = await services.calls.ingest(ws.id, e.room, e.events, 'agent');
        if (result.applied !== e.events.length) throw new Error(`call ${e.room}: applied ${result.applied}`);
      }
    }),
  );
  const seededIn = (performance.now() - began) / 1000;
  const rss = settledRss();
  lines.push({
    calls: target,
    rss,
    baselineRss: baseline,
    bytesPerCall: (rss - baseline) / target,
    transcriptTextBytesPerCall: textBytes / target,
    heapUsed: process.memoryUsage().heapUsed,
    seededIn,
  });
}
// Measured last, so the memory it takes cannot make room for the calls measured above.
const transcriptHeapBytesPerCall = transcriptHeapBytes();
for (const line of lines) process.stdout.write(JSON.stringify({ ...line, transcriptHeapBytesPerCall }) + '\n');
await services.close();
process.exit(0);
