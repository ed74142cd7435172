/**
 * The README's quick start, as a newcomer runs it: `npm start` on a fresh data directory (no LiveKit, no
 * Redis, no PostgreSQL), the curl line it prints, and the README's `simulate` command with the workspace id it
 * printed (only a shorter pause between turns added, to keep the test short). The commands are read from the
 * README itself, so the test fails when the README and the product part ways.
 */
import { exec, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { freePort, ROOT } from '../helpers/server-process.ts';

const run = promisify(exec);
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5));
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] ?? '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean),
);

const dataDir = tempDir('livecalls-quickstart-');
let stopServer: () => Promise<void> = async () => {};
afterAll(async () => {
  await stopServer();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the README's quick start", () => {
  it('starts on a fresh directory, prints a working curl line, and the simulate command fills it with calls', async () => {
    expect(commands).toContain('npm ci && npm start');
    expect(commands).toContain('npm test');
    const simulate = commands.find((c) => c.startsWith('npx livecalls simulate'));
    expect(simulate).toBeDefined();

    const port = await freePort();
    const env = {
      ...process.env,
      LIVECALLS_DATA_DIR: dataDir,
      PORT: String(port),
      LIVEKIT_API_KEY: '',
      LIVEKIT_API_SECRET: '',
      LIVEKIT_URL: '',
    };
    // `npm ci` has run (this suite runs after it); the rest of the line verbatim.
    const server = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    server.stdout.on('data', (c: Buffer) => (out += c.toString()));
    server.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((resolve) => server.once('exit', resolve));
    stopServer = async () => {
      if (server.exitCode === null && server.pid) process.kill(-server.pid, 'SIGTERM');
      await exited;
    };
    const deadline = Date.now() + 60_000;
    while (!/curl -s \S+/.test(out)) {
      if (server.exitCode !== null) throw new Error(`npm start exited:\n${out}`);
      expect(Date.now(), out).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    const workspaceId = /workspace id:\s+(ws_\S+)/.exec(out)?.[1] ?? '';
    const curl = /(curl -s .*)$/m.exec(out)?.[1] ?? '';
    expect(workspaceId).toMatch(/^ws_/);

    const listed = await run(curl);
    expect(JSON.parse(listed.stdout)).toMatchObject({ data: [], count: 0 });

    const command = `${(simulate ?? '').replace('ws_…', workspaceId)} --turn-delay 20`;
    const simulated = await run(command, { cwd: ROOT, env, timeout: 240_000 });
    expect(simulated.stdout).toMatch(/calls 20\/20 started, 0 active, 20 ended, \d+ events, 0 errors/);

    // The calls are in the history, through the key the first start printed.
    const apiKey = /API key:\s+(\S+)/.exec(out)?.[1] ?? '';
    const history = await fetch(`http://127.0.0.1:${port}/v2/api/call-history?limit=100`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { pagination: { total: number } }).pagination.total).toBe(20);
  }, 360_000);
});
