/**
 * `livecalls simulate`: runs scripted calls against a livecalls server through its real ingest routes,
 * signed with the same LiveKit key pair as the server's (or, when neither has one, the simulation key pair
 * derived from the server secret), and shows progress on one line.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadServerSecret, SECRET_FILE, SIMULATION_KEY } from '../control/secrets.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { runSimulation, type Progress, type Stats } from '../simulate/simulator.ts';

const NON_TTY_EVERY_MS = 3_000;
const TTY_EVERY_MS = 150;

function invalid(flag: string, message: string): AppError {
  return new AppError('invalid_request', `${flag} ${message}`, { field: flag });
}

function intFlag(text: string | undefined, flag: string, min: number, max: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw invalid(flag, `is required (a whole number from ${min} to ${max})`);
    return fallback;
  }
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw invalid(flag, `must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

/** Where the local server listens, as a URL a client can reach (a wildcard bind is reached on loopback). */
export function localUrl(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

function urlFlag(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('--url', `must be a URL such as http://127.0.0.1:3000, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('--url', `must be an http:// or https:// URL, got "${text}"`);
  return url.toString().replace(/\/+$/, '');
}

export function formatProgress(p: Progress, total: number): string {
  const failed = p.failed ? `, ${p.failed} failed` : '';
  return `calls ${p.started}/${total} started, ${p.active} active, ${p.ended} ended${failed}, ${p.events} events, ${p.errors} errors`;
}

export interface ProgressPrinter {
  update(p: Progress): void;
  /** Prints the final state and stops. */
  done(p: Progress): void;
}

/** One line redrawn in place on a terminal; a line every few seconds when output goes to a file or pipe. */
export function progressPrinter(stream: NodeJS.WriteStream, total: number, prefix = ''): ProgressPrinter {
  const tty = stream.isTTY === true;
  let latest: Progress = { started: 0, active: 0, ended: 0, failed: 0, events: 0, errors: 0 };
  let shown = '';
  const render = (final: boolean): void => {
    const line = `${prefix}${formatProgress(latest, total)}`;
    if (line === shown && !final) return;
    stream.write(tty ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`);
    shown = line;
  };
  const timer = setInterval(() => render(false), tty ? TTY_EVERY_MS : NON_TTY_EVERY_MS);
  timer.unref();
  return {
    update(p) {
      latest = p;
    },
    done(p) {
      clearInterval(timer);
      latest = p;
      render(true);
    },
  };
}

export function summary(stats: Stats): string {
  const secs = (stats.elapsedMs / 1000).toFixed(1);
  const failed = stats.failed ? ` (${stats.failed} failed)` : '';
  return `${stats.ended} call${stats.ended === 1 ? '' : 's'} completed${failed}, ${stats.events} events, ${stats.errors} errors in ${secs}s`;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        calls: { type: 'string' },
        url: { type: 'string' },
        workspace: { type: 'string' },
        'api-key': { type: 'string' },
        concurrency: { type: 'string' },
        'turn-delay': { type: 'string' },
      },
    }).values;
  } catch (err) {
    // An unknown option gets the usage text from main; node's other messages name the option at fault.
    if (err instanceof Error && 'code' in err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw err;
    throw new AppError('invalid_request', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * What the simulator signs with: the server's LiveKit key pair when it is configured here, else the
 * simulation key pair the server accepts while it has no LiveKit (derived from its server secret, read from
 * the same data directory or LIVECALLS_SECRET).
 */
function simulatorKeyPair(config: Readonly<Config>): { livekitKey: string; livekitSecret: string } {
  const { apiKey, apiSecret } = config.livekit;
  if (apiKey && apiSecret) return { livekitKey: apiKey, livekitSecret: apiSecret };
  if (apiKey || apiSecret) throw new ConfigError("set both LIVEKIT_API_KEY and LIVEKIT_API_SECRET (the server's pair), or neither");
  if (!config.secret && !existsSync(path.join(config.dataDir, SECRET_FILE))) {
    throw new ConfigError(
      `no LiveKit key pair is set and ${path.resolve(config.dataDir)} holds no server secret: start the server first (npm start) and run the simulator from the same directory (or with the same LIVECALLS_DATA_DIR), or set LIVEKIT_API_KEY and LIVEKIT_API_SECRET to the server's pair`,
    );
  }
  return { livekitKey: SIMULATION_KEY, livekitSecret: loadServerSecret(config.secret, config.dataDir).simulationSecret };
}

export async function simulateCommand(args: string[]): Promise<void> {
  const values = parse(args);
  const calls = intFlag(values.calls, '--calls', 1, 100_000);
  const concurrency = intFlag(values.concurrency, '--concurrency', 1, 1_000, 5);
  const turnDelayMs = intFlag(values['turn-delay'], '--turn-delay', 0, 600_000, 1_500);
  const workspaceId = values.workspace?.trim();
  if (!workspaceId) {
    throw invalid(
      '--workspace',
      'is required: the workspace id (ws_...) the server printed on its first start, or one from `livecalls workspaces create`',
    );
  }
  const apiKey = values['api-key']?.trim() || undefined;
  const config = loadConfig();
  const baseUrl = urlFlag(values.url ?? localUrl(config));
  const { livekitKey, livekitSecret } = simulatorKeyPair(config);

  process.stdout.write(
    `simulating ${calls} call${calls === 1 ? '' : 's'} against ${baseUrl} (workspace ${workspaceId}, ${concurrency} at once, ~${turnDelayMs} ms between turns)\n`,
  );
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stdout.write('\nstopping: hanging up the calls in progress (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const printer = progressPrinter(process.stdout, calls);
  let stats: Stats;
  try {
    stats = await runSimulation({
      baseUrl,
      workspaceId,
      apiKey,
      livekitKey,
      livekitSecret,
      calls,
      concurrency,
      turnDelayMs,
      signal: controller.signal,
      onProgress: (p) => printer.update(p),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  printer.done(stats);
  process.stdout.write(`done: ${summary(stats)}\n`);
  if (stats.fatal) throw new AppError('service_unavailable', `stopped: ${stats.fatal}`);
  if (stats.errors > 0) {
    throw new AppError('service_unavailable', `${stats.errors} request(s) failed; the first: ${stats.firstError ?? 'unknown error'}`);
  }
}
