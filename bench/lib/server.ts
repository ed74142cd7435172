/**
 * Child processes for the benchmark: the real livecalls server (as `npm start` runs it) and the helper
 * programs under bench/. Each can be pinned to a set of cores with `taskset`, so the server and the load
 * generator do not take turns on the same core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/helpers/server-process.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** Cores for the server and for the load generators, when the machine has two or more and `taskset` exists. */
export interface CorePlan {
  server: string | undefined;
  load: string | undefined;
  description: string;
}

export function planCores(cores: number): CorePlan {
  const taskset = spawnSync('taskset', ['-V']).status === 0;
  if (!taskset || cores < 2) {
    return { server: undefined, load: undefined, description: `${cores} core(s), no pinning: server and load generators share them` };
  }
  const half = Math.floor(cores / 2);
  const server = half === 1 ? '0' : `0-${half - 1}`;
  const load = cores - half === 1 ? String(half) : `${half}-${cores - 1}`;
  return {
    server,
    load,
    description: `${cores} cores: livecalls server pinned to core ${server}, load generators and clients to core ${load} (taskset); Redis and PostgreSQL unpinned`,
  };
}

/** Pins this very process (the load generator) to `cpus`. */
export function pinSelf(cpus: string | undefined): void {
  if (cpus) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

function command(cpus: string | undefined, args: string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, process.execPath, ...args]] : [process.execPath, args];
}

export interface Child {
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

export function startChild(args: string[], env: Record<string, string>, logFile: string, cpus?: string): Child {
  const fd = openSync(logFile, 'a');
  const [cmd, argv] = command(cpus, ['--import', 'tsx', ...args]);
  const proc = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    logFile,
    exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Server extends Child {
  url: string;
}

export async function startLivecalls(
  env: Record<string, string>,
  logFile: string,
  opts: { cpus?: string; nodeFlags?: string[] } = {},
): Promise<Server> {
  const port = await freePort();
  const child = startChild(
    [...(opts.nodeFlags ?? []), 'src/server.ts'],
    { HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    logFile,
    opts.cpus,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, child, 60_000);
  return { ...child, url };
}

export async function waitReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${url}: process exited early:\n${readFileSync(child.logFile, 'utf8').slice(-4000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await child.kill();
      throw new Error(`${url} did not become ready:\n${readFileSync(child.logFile, 'utf8').slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until the server answers /healthz promptly again (three answers in a row under 20 ms), so that what an
 * overloaded run left queued is not measured as part of the next run. Gives up after a minute.
 */
export async function waitIdle(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quick = 0;
  while (quick < 3 && Date.now() < deadline) {
    const t0 = performance.now();
    try {
      await (await fetch(`${url}/healthz`)).arrayBuffer();
    } catch {
      // a moment of refusal is not idleness
    }
    quick = performance.now() - t0 < 20 ? quick + 1 : 0;
    await new Promise((r) => setTimeout(r, 50));
  }
}
