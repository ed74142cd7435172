/**
 * What can make a 99th percentile at a modest rate: the server stopping (its event loop blocked, a major GC)
 * or the machine taking the CPU away (steal time, which a virtual machine's host can impose). Measured around
 * a run, from the server's own /metrics (prom-client: the event-loop delay histogram is reset by every
 * scrape, GC durations are counted by kind) and from /proc/stat, so a bad p99 can be told apart from a slow
 * request path.
 */
import { readFileSync } from 'node:fs';

export interface Stalls {
  /** The longest the server's event loop was held up during the run (ms). */
  loopMaxMs: number;
  /** Major (mark-compact) GC pauses during the run: how many, and their total (ms). */
  majorGcs: number;
  majorGcMs: number;
  /** CPU time the machine's host took from this machine during the run, over all cores (ms). */
  stealMs: number;
}

const TICK_MS = 10;

function steal(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
    return Number(cpu[8] ?? 0) * TICK_MS;
  } catch {
    return 0;
  }
}

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.ok ? res.text() : '';
}

/** Starts watching the server at `url`; the function returned ends the watch and tells what happened since. */
export async function watchStalls(url: string): Promise<() => Promise<Stalls>> {
  const before = await scrape(url);
  const stealBefore = steal();
  return async () => {
    const after = await scrape(url);
    const major = '{kind="major"}';
    return {
      loopMaxMs: metric(after, 'nodejs_eventloop_lag_max_seconds') * 1_000,
      majorGcs: metric(after, 'nodejs_gc_duration_seconds_count', major) - metric(before, 'nodejs_gc_duration_seconds_count', major),
      majorGcMs: (metric(after, 'nodejs_gc_duration_seconds_sum', major) - metric(before, 'nodejs_gc_duration_seconds_sum', major)) * 1_000,
      stealMs: steal() - stealBefore,
    };
  };
}

export function describeStalls(s: Stalls | undefined): string {
  if (!s) return '';
  return `longest event-loop stall ${s.loopMaxMs.toFixed(0)} ms, ${s.majorGcs} major GCs (${s.majorGcMs.toFixed(0)} ms), steal ${s.stealMs.toFixed(0)} ms`;
}
