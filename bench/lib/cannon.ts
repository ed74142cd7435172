/**
 * autocannon, promised, with latency percentiles kept to the microsecond: autocannon's own histogram rounds
 * to whole milliseconds, too coarse for a list answered in a fraction of one.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  /** seconds */
  duration: number;
  connections: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Called for every request: a fresh path/body/headers (unique event ids). */
  next?: () => { path?: string; body?: string; headers?: Record<string, string> };
  /** Fixed total rate (requests/s) instead of as fast as possible. */
  rate?: number;
  /** A response body must contain this for the request to count (checked on a sample). */
  expect?: (status: number, body: string) => boolean;
  /** The server's pid: its CPU time during the run is reported (a figure that other load on the machine disturbs less). */
  serverPid?: number;
}

export interface LoadResult {
  requests: number;
  /** requests/s over the run */
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Responses that failed `expect`. */
  mismatches: number;
  /** CPU seconds the server used during the run, when its pid was given. */
  serverCpu?: number;
}

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of a process so far (Linux /proc); undefined elsewhere. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Server CPU a request took (µs), less `backgroundCpu` CPU-seconds a second of other work the server did
 * meanwhile; NaN when the server's CPU was not measured.
 */
export function cpuUsPerRequest(r: LoadResult, backgroundCpu = 0): number {
  if (r.serverCpu === undefined || r.requests === 0) return Number.NaN;
  return (r.serverCpu / r.requests - backgroundCpu / r.rps) * 1e6;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  let mismatches = 0;
  let checked = 0;
  const next = opts.next;
  const expect = opts.expect;
  const request: autocannon.Request = {
    method: opts.method ?? 'GET',
    ...(next ? { setupRequest: (req: autocannon.Request) => ({ ...req, ...withHeaders(next(), opts.headers) }) } : {}),
    // Checking every body would make the load generator the bottleneck; one in 50 shows a wrong answer.
    ...(expect
      ? {
          onResponse: (status: number, body: string) => {
            if (checked++ % 50 === 0 && !expect(status, body)) mismatches++;
          },
        }
      : {}),
  };
  const cpuBefore = opts.serverPid ? cpuSeconds(opts.serverPid) : undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        duration: opts.duration,
        connections: opts.connections,
        headers: opts.headers,
        requests: [request],
        ...(opts.rate ? { overallRate: opts.rate } : {}),
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  const cpuAfter = opts.serverPid ? cpuSeconds(opts.serverPid) : undefined;
  times.sort((a, b) => a - b);
  const seconds = opts.duration;
  return {
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    mismatches,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpu: cpuAfter - cpuBefore } : {}),
  };
}

function withHeaders(
  part: { path?: string; body?: string; headers?: Record<string, string> },
  base: Record<string, string> | undefined,
): autocannon.Request {
  return {
    ...(part.path !== undefined ? { path: part.path } : {}),
    ...(part.body !== undefined ? { body: part.body } : {}),
    ...(part.headers ? { headers: { ...base, ...part.headers } } : {}),
  };
}
