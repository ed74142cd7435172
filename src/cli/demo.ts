/**
 * `npm run demo`: livecalls with live calls on a fresh clone, no LiveKit needed. Creates a "demo" workspace
 * and key in a store of its own (`demo/` inside LIVECALLS_DATA_DIR, so ./data/demo by default), starts a
 * SIMULATED LiveKit server API (src/simulate/livekit) that holds the simulated rooms, starts the real server
 * on it as a child process (LIVEKIT_URL pointing at the simulated API, so end-call, takeover and transfer
 * work on the demo's calls), prints the credentials and a curl line, then simulates calls round after round
 * until Ctrl-C, hangs them up and stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { startLiveKitStandIn, type LiveKitStandIn } from '../simulate/livekit/server.ts';
import { runSimulation } from '../simulate/simulator.ts';
import { openEmbeddedTenants } from '../store/embedded/index.ts';
import { localUrl, progressPrinter, summary } from './simulate.ts';

/** Used only when no key pair is configured; LiveKit's own dev mode uses the key "devkey" too. */
const DEV_KEY = 'devkey';
const DEV_SECRET = 'livecalls-demo-secret-do-not-use-in-production';
const ROUND = { calls: 20, concurrency: 6, turnDelayMs: 1_500, holdMs: 2_000 };
const ROOT = path.resolve(import.meta.dirname, '../..');
/** Signals this close to the first are the same Ctrl-C relayed by npm or tsx, not a second press. */
const RELAY_WINDOW_MS = 500;

const say = (line = ''): boolean => process.stdout.write(`${line}\n`);

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const addr = probe.address();
      probe.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

async function waitReady(url: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null)
      throw new Error(`the server exited during start-up (code ${server.exitCode ?? server.signalCode})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server was not ready at ${url}/readyz within 30 s`);
}

async function main(): Promise<number> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`livecalls demo: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // A store of its own: demo workspaces never mix with real ones, and a later `npm start` on an empty
  // ./data still creates and prints its first workspace.
  const dataDir = path.resolve(config.dataDir, 'demo');
  const livekitKey = config.livekit.apiKey ?? DEV_KEY;
  const livekitSecret = config.livekit.apiSecret ?? DEV_SECRET;
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  // Checked first: otherwise readiness could be answered by another server already on that port.
  if (!(await portFree(config.host, port))) {
    process.stderr.write(
      `livecalls demo: port ${port} on ${config.host} is in use (is livecalls already running?). Try PORT=3001 npm run demo\n`,
    );
    return 1;
  }
  const url = localUrl({ host: config.host, port });

  // Created before the server starts, so it does not create (and print) a first workspace of its own.
  const store = openEmbeddedTenants(dataDir);
  let workspaceId: string;
  let apiKey: string;
  try {
    const workspace = await store.tenants.createWorkspace('demo', Date.now());
    workspaceId = workspace.id;
    apiKey = (await store.tenants.createKey(workspace.id, Date.now())).apiKey;
  } finally {
    store.close();
  }

  // The demo's rooms live here: livecalls' call control reaches them as it would reach LiveKit.
  const livekit: LiveKitStandIn = await startLiveKitStandIn(livekitKey, livekitSecret);
  say(`livecalls demo: simulated LiveKit server API on ${livekit.url} (the demo's rooms only; not LiveKit)`);
  say(`livecalls demo: starting the server on ${url} (data in ${dataDir})`);
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LIVECALLS_DATA_DIR: dataDir,
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekitKey,
      LIVEKIT_API_SECRET: livekitSecret,
      PORT: String(port),
      HOST: config.host,
      // Request logs would bury the progress line; an explicitly chosen level is kept.
      LOG_LEVEL: config.logLevel === 'info' ? 'warn' : config.logLevel,
    },
    // Its own process group: Ctrl-C reaches only the demo, which hangs up its calls before stopping it.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  // Whatever way the demo ends, the server (in its own group) must not outlive it; it shuts down on SIGTERM.
  process.once('exit', () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  });

  const controller = new AbortController();
  let stopping = false;
  let crashed = false;
  let firstSignalAt = 0;
  const onSignal = (): void => {
    if (!stopping) {
      stopping = true;
      firstSignalAt = Date.now();
      controller.abort();
      say('\nstopping: hanging up the calls in progress, then the server (Ctrl-C again to quit at once)');
    } else if (Date.now() - firstSignalAt > RELAY_WINDOW_MS) {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The terminal is gone: there is no one to report to, so quit at once (the exit handler stops the server).
  process.on('SIGHUP', () => process.exit(129));
  void serverExit.then((code) => {
    if (stopping) return;
    process.stderr.write(`\nlivecalls demo: the server exited unexpectedly (code ${code})\n`);
    stopping = true;
    crashed = true;
    controller.abort();
  });

  try {
    await waitReady(url, server);
  } catch (err) {
    process.stderr.write(`livecalls demo: ${err instanceof Error ? err.message : String(err)}\n`);
    server.kill('SIGKILL');
    await livekit.close();
    return 1;
  }
  say();
  say('  Live calls are being simulated for this workspace:');
  say(`  workspace id: ${workspaceId}`);
  say(`  API key:      ${apiKey}`);
  say();
  say(`  curl -s ${url}/v2/api/active-calls -H 'x-api-key: ${apiKey}' -H 'x-workspace-id: ${workspaceId}'`);
  say(`  API docs: ${url}/docs`);
  say(`  Dashboard: ${url}/  (End call, Take over and Transfer act on the simulated rooms)`);
  say();

  let failed = false;
  for (let round = 1; !controller.signal.aborted; round++) {
    const printer = progressPrinter(process.stdout, ROUND.calls, `round ${round}: `);
    const stats = await runSimulation({
      ...ROUND,
      baseUrl: url,
      workspaceId,
      livekitKey,
      livekitSecret,
      livekit,
      signal: controller.signal,
      onProgress: (p) => printer.update(p),
    });
    printer.done(stats);
    if (stats.errors > 0) {
      failed = true;
      process.stderr.write(`round ${round}: ${summary(stats)}; the first error: ${stats.firstError ?? 'unknown'}\n`);
      if (server.exitCode !== null || server.signalCode !== null) break;
    }
  }

  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    const force = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await serverExit;
    clearTimeout(force);
  }
  await livekit.close();
  say('livecalls demo: stopped');
  return crashed || failed ? 1 : 0;
}

process.exitCode = await main();
