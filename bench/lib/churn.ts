/** Keeps calls changing while something else is measured: bench/churn.ts in its own process. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadResult } from './cannon.ts';
import { logFile, type BenchContext } from './context.ts';
import type { SeededRoom } from './seed.ts';
import { startChild } from './server.ts';

/** What the background generator did (bench/churn.ts prints it when stopped). */
export type ChurnTotals = Pick<LoadResult, 'requests' | 'rps' | 'p50' | 'p99' | 'errors' | 'non2xx'>;

export interface Churn {
  stop(): Promise<ChurnTotals | undefined>;
}

let runs = 0;

/** Single transcript events at `rate` per second, round-robin over `rooms`, until stopped. */
export function startChurn(ctx: BenchContext, url: string, rooms: readonly SeededRoom[], rate: number): Churn {
  const n = ++runs;
  const configFile = path.join(ctx.dir, `churn-${n}.json`);
  writeFileSync(configFile, JSON.stringify({ url, rate, rooms }));
  const log = logFile(ctx, `churn-${n}`);
  const child = startChild(['bench/churn.ts', configFile], {}, log, ctx.cores.load);
  return {
    async stop() {
      await child.kill();
      const last = readFileSync(log, 'utf8').trim().split('\n').at(-1) ?? '';
      try {
        return JSON.parse(last) as ChurnTotals;
      } catch {
        ctx.log(`  churn: no totals (${last.slice(0, 200)})`);
        return undefined;
      }
    },
  };
}
