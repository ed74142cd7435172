/**
 * An open-loop load generator: requests leave at an even pace (every millisecond, as many as are due),
 * whether or not earlier ones were answered, and latency is timed from the moment each was sent. autocannon's
 * fixed-rate mode is a per-second quota per connection (each connection sends its quota back to back, then
 * waits for the next second): bursts that measure queueing behind the burst, not latency at a rate.
 */
import http from 'node:http';
import { cpuSeconds, percentile, type LoadResult } from './cannon.ts';

export interface PacedOptions {
  url: string;
  /** requests per second */
  rate: number;
  /** seconds */
  duration: number;
  /** Stops early once this returns true (checked every millisecond). */
  until?: () => boolean;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  next?: () => { path?: string; body?: string; headers?: Record<string, string> };
  /** Answers that fail this are counted as mismatches. */
  expect?: (status: number, body: string) => boolean;
  /** Sockets at most (requests beyond wait for one, and that wait counts as latency). */
  sockets?: number;
  /**
   * Requests sent and not yet answered at most (default: a quarter of a second's worth): beyond it the server is not
   * keeping up, and further requests are not sent but counted as errors, so that an overloaded server is
   * reported as such instead of being buried under a backlog that outlives the run.
   */
  maxOutstanding?: number;
  serverPid?: number;
  /** Called with each answer's status, body and the time it was sent and answered (performance.now()). */
  onAnswer?: (status: number, body: string, sentAt: number, answeredAt: number) => void;
}

export async function paced(opts: PacedOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.sockets ?? 64 });
  const base = new URL(opts.url);
  const times: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let mismatches = 0;
  let inFlight = 0;
  let finished = false;
  const wantBody = Boolean(opts.expect || opts.onAnswer);
  const cpuBefore = opts.serverPid ? cpuSeconds(opts.serverPid) : undefined;

  const maxOutstanding = opts.maxOutstanding ?? Math.max(64, Math.round(opts.rate / 4));
  const send = (): void => {
    if (inFlight >= maxOutstanding) {
      errors++;
      return;
    }
    const part = opts.next?.() ?? {};
    const sentAt = performance.now();
    inFlight++;
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: part.path ?? (base.pathname + base.search || '/'),
        method: opts.method ?? 'GET',
        headers: { ...opts.headers, ...part.headers },
        agent,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (wantBody) body += chunk;
        });
        res.on('end', () => {
          const answeredAt = performance.now();
          inFlight--;
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) non2xx++;
          else times.push(answeredAt - sentAt);
          if (opts.expect && !opts.expect(status, body)) mismatches++;
          opts.onAnswer?.(status, body, sentAt, answeredAt);
        });
      },
    );
    req.on('error', () => {
      if (finished) return; // abandoned at the end, already counted
      inFlight--;
      errors++;
    });
    req.end(part.body);
  };

  const started = performance.now();
  let elapsed = opts.duration;
  const endAt = started + opts.duration * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, endAt) - started) / 1000) * opts.rate);
      while (sent < due) {
        send();
        sent++;
      }
      if (now >= endAt || opts.until?.()) {
        elapsed = (Math.min(now, endAt) - started) / 1000;
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  // Let the last requests finish (a stuck server shows up as errors, not as a hang).
  const drainUntil = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  const abandoned = inFlight;
  finished = true;
  const cpuAfter = opts.serverPid ? cpuSeconds(opts.serverPid) : undefined;
  agent.destroy();
  errors += abandoned;
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    rps: times.length / elapsed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    errors,
    non2xx,
    mismatches,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpu: cpuAfter - cpuBefore } : {}),
  };
}
