/**
 * Memory: RSS per active call at 10,000 and 100,000 active calls with 20-turn transcripts, measured in a
 * dedicated process (bench/memory-child.ts) that ingests straight through CallService, one batch per call:
 * seeding 100,000 calls over HTTP would take most of the benchmark's time. On Redis + PostgreSQL the calls
 * live in Redis, so Redis's `used_memory` per call is reported too (other clients of the same Redis would
 * count as well). The per-call figure that the target is checked on is the slope between the two sizes:
 * what one more call costs, free of the process's fixed costs.
 */
import { readFileSync } from 'node:fs';
import { BACKENDS, createBackend, redisUsedMemory, type BackendName } from '../lib/backends.ts';
import { logFile, type BenchContext, type Row, type SectionResult, type Target } from '../lib/context.ts';
import { startChild } from '../lib/server.ts';

const TARGET_BYTES_PER_CALL = 2 * 1024;
const TARGET_RSS_AT_100K = 1024 ** 3;

interface Checkpoint {
  calls: number;
  rss: number;
  baselineRss: number;
  bytesPerCall: number;
  transcriptTextBytesPerCall: number;
  transcriptHeapBytesPerCall: number;
  heapUsed: number;
  seededIn: number;
  redisBytesPerCall?: number;
}

async function memoryOn(ctx: BenchContext, name: BackendName, sizes: readonly number[], cpus: string | undefined): Promise<Checkpoint[]> {
  const backend = await createBackend(name, ctx.dir);
  try {
    const redisBefore = backend.redisPrefix ? await redisUsedMemory() : undefined;
    const log = logFile(ctx, `memory-${name}`);
    const child = startChild(['--expose-gc', 'bench/memory-child.ts', sizes.join(',')], backend.env, log, cpus);
    const code = await child.exited;
    const output = readFileSync(log, 'utf8');
    if (code !== 0) throw new Error(`memory child exited with ${code}:\n${output.slice(-3000)}`);
    const points = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Checkpoint);
    if (redisBefore !== undefined) {
      // Redis is read once, after the largest size; the checkpoint lines came at the end of the run.
      const last = points.at(-1);
      if (last) last.redisBytesPerCall = ((await redisUsedMemory()) - redisBefore) / last.calls;
    }
    for (const p of points) {
      ctx.log(
        `  ${name} ${p.calls} calls: RSS ${(p.rss / 2 ** 20).toFixed(0)} MiB (${(p.bytesPerCall / 1024).toFixed(2)} KiB a call over a ${(p.baselineRss / 2 ** 20).toFixed(0)} MiB start; transcript ${(p.transcriptHeapBytesPerCall / 1024).toFixed(2)} KiB)${p.redisBytesPerCall ? `; Redis ${(p.redisBytesPerCall / 1024).toFixed(2)} KiB a call` : ''}; seeded in ${p.seededIn.toFixed(0)} s`,
      );
    }
    return points;
  } finally {
    await backend.cleanup();
  }
}

export async function runMemory(ctx: BenchContext, backends: readonly BackendName[] = BACKENDS): Promise<SectionResult> {
  const sizes = ctx.quick ? [2_000, 10_000] : [10_000, 100_000];
  // The backends are measured at the same time, one process on each side of the machine: what is measured
  // is each process's own RSS (and Redis's memory), which the other does not change, and it halves the time.
  const measured = await Promise.all(
    backends.map((name, i) => memoryOn(ctx, name, sizes, i % 2 === 0 ? ctx.cores.server : ctx.cores.load)),
  );
  const results = new Map<BackendName, Checkpoint[]>(backends.map((name, i) => [name, measured[i] ?? []]));
  const rows: Row[] = [];
  const targets: Target[] = [];
  for (const [name, points] of results) {
    points.forEach((p, i) => {
      const prev = points[i - 1];
      // What one more call costs: the slope between two sizes, free of the process's fixed costs.
      const marginal = prev ? (p.rss - prev.rss) / (p.calls - prev.calls) : undefined;
      const beyond = marginal !== undefined ? marginal - p.transcriptHeapBytesPerCall : undefined;
      rows.push({
        section: 'memory',
        backend: name,
        metric: `RSS per active call, ${p.calls.toLocaleString('en-US')} calls`,
        value: Math.round(p.bytesPerCall),
        unit: 'bytes',
        detail: [
          `average over a ${(p.baselineRss / 2 ** 20).toFixed(0)} MiB start; RSS ${(p.rss / 2 ** 20).toFixed(0)} MiB`,
          marginal !== undefined
            ? `${Math.round(marginal)} a call from ${prev?.calls.toLocaleString('en-US')} to ${p.calls.toLocaleString('en-US')}, ${Math.round(beyond ?? 0)} beyond the transcript`
            : '',
          `transcript ${Math.round(p.transcriptHeapBytesPerCall)} on the heap (${Math.round(p.transcriptTextBytesPerCall)} of text)`,
          p.redisBytesPerCall ? `Redis used_memory ${Math.round(p.redisBytesPerCall)} a call` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
      if (name === 'embedded' && beyond !== undefined) {
        targets.push({
          section: 'memory',
          backend: name,
          target: `< 2 KiB a call beyond its 20-turn transcript (${prev?.calls.toLocaleString('en-US')} to ${p.calls.toLocaleString('en-US')} calls)`,
          measured: `${Math.round(beyond)} bytes`,
          pass: beyond < TARGET_BYTES_PER_CALL,
        });
      }
      if (p.calls === 100_000) {
        targets.push({
          section: 'memory',
          backend: name,
          target: '100,000 active calls < 1 GiB RSS',
          measured: `${(p.rss / 2 ** 20).toFixed(0)} MiB`,
          pass: p.rss < TARGET_RSS_AT_100K,
        });
      }
    });
  }
  return { rows, targets, raw: Object.fromEntries(results) };
}
