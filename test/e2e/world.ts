/**
 * What the browser tests drive: the real server process (first-start bootstrap gives the key), the
 * LiveKit stand-in whose webhooks reach it over HTTP, calls made the way LiveKit and an agent worker make
 * them (signed webhooks, signed agent events), and headless Chromium.
 */
import { existsSync, rmSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { expect } from 'vitest';
import { signBody } from '../../src/simulate/sign.ts';
import { LK_KEY, LK_SECRET, tempDir } from '../helpers/app.ts';
import { httpSink, startLiveKitStandIn, type StandIn } from '../helpers/livekit-server.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

export const CHROMIUM = process.env.LIVECALLS_TEST_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`Chromium is required in CI but missing at ${CHROMIUM} (apt-get install chromium)`);
  console.warn(`\n*** SKIPPING dashboard e2e tests: no Chromium at ${CHROMIUM} (apt-get install chromium) ***\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface World {
  /** The running server process (another one after `restart`). */
  readonly server: ServerProcess;
  lk: StandIn;
  /**
   * How far LiveKit's and the agent's clocks are set back, ms (0: now). Calls made while it is set started and
   * ended that long ago, as far as livecalls can tell (room creation times, webhook and event times).
   */
  past: { ms: number };
  dataDir: string;
  workspaceId: string;
  apiKey: string;
  /** A call as LiveKit reports it: the room, the agent, then the caller (SIP) or a browser user. */
  startCall(room: string, agentName: string, caller: { phone: string } | 'web'): Promise<void>;
  /** Agent events as a LiveKit agent worker posts them (signed, bound to the room, in order); resolves on the 202. */
  agentEvents(room: string, events: Record<string, unknown>[]): Promise<void>;
  /** An API request with the workspace's key; answers the parsed body, after checking the status. */
  api<T>(method: string, path: string, body?: unknown, status?: number): Promise<T>;
  /** Stops the server (if it is still running) and starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the server and the stand-in, and removes the data directory. */
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const dataDir = tempDir('livecalls-dashboard-');
  const past = { ms: 0 };
  const clock = () => Date.now() - past.ms;
  const lk = await startLiveKitStandIn(LK_KEY, LK_SECRET, clock);
  const env = {
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVEKIT_URL: lk.url,
    LOG_LEVEL: 'warn',
  };
  let server = await startServer(env);
  const workspaceId = /workspace id:\s+(\S+)/.exec(server.output())?.[1] ?? '';
  const apiKey = /API key:\s+(\S+)/.exec(server.output())?.[1] ?? '';
  expect(workspaceId).toMatch(/^ws_/);
  lk.sink = httpSink(`${server.url}/webhooks/livekit`);
  let seq = 0;

  return {
    get server() {
      return server;
    },
    lk,
    past,
    dataDir,
    workspaceId,
    apiKey,
    async startCall(room, agentName, caller) {
      lk.addRoom({ name: room, metadata: { workspaceId, agentName } });
      lk.addParticipant(room, {
        identity: `agent-${room}`,
        kind: 'agent',
        tracks: [`TR_${room}_a`],
        attributes: { 'lk.agent.name': agentName },
      });
      if (caller === 'web') lk.addParticipant(room, { identity: `web-${room}`, kind: 'standard', tracks: [`TR_${room}_w`] });
      else
        lk.addParticipant(room, {
          identity: `sip_${caller.phone}`,
          kind: 'sip',
          tracks: [`TR_${room}_c`],
          attributes: { 'sip.phoneNumber': caller.phone },
        });
      await lk.webhooksDelivered();
    },
    async agentEvents(room, events) {
      // Each event a later createdAt than the one before, as a worker's clock gives them: "last" means last said.
      const base = clock();
      const stamped = events.map((e, i) => ({ id: `ev-${++seq}`, createdAt: base + i, ...e }));
      const body = JSON.stringify({ events: stamped });
      const res = await fetch(`${server.url}/v2/api/active-calls/${room}/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: await signBody(body, LK_KEY, LK_SECRET, '5m', room),
          'x-workspace-id': workspaceId,
        },
        body,
      });
      expect(res.status, await res.text()).toBe(202);
    },
    async api<T>(method: string, path: string, body?: unknown, status = 200): Promise<T> {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          'x-api-key': apiKey,
          'x-workspace-id': workspaceId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(status);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async restart() {
      await server.kill();
      server = await startServer(env, server.port);
    },
    async close() {
      await server.kill();
      await lk.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
