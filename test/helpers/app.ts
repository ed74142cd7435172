/** Builds a real app on a fresh embedded store in a temp dir, with a controllable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices, type Services } from '../../src/services.ts';
import { createEmbeddedStores } from '../../src/store/embedded/index.ts';
import type { Stores } from '../../src/store/types.ts';

export const LK_KEY = 'lk-test-key';
export const LK_SECRET = 'lk-test-secret-0123456789abcdefghijklmnop';

export interface TestClock {
  now: number;
  advance(ms: number): void;
}

export interface TestWorkspace {
  id: string;
  apiKey: string;
  keyId: string;
  headers: Record<string, string>;
}

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  clock: TestClock;
  dataDir: string;
  ws: TestWorkspace;
  newWorkspace(name?: string): Promise<TestWorkspace>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'livecalls-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * `stores`: changes the embedded stores before the services use them (a wrapped store, a property overridden).
 * `relayWebhooks`: the embedded store keeps webhook news in its relay rather than in the outbox (see the store).
 */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { stores?: (stores: Stores) => Stores; relayWebhooks?: boolean } = {},
): Promise<TestApp> {
  const dataDir = tempDir();
  const config = loadConfig({
    LIVECALLS_DATA_DIR: dataDir,
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const clock: TestClock = {
    now: Date.UTC(2026, 10, 24, 10, 0, 0),
    advance(ms) {
      this.now += ms;
    },
  };
  const log = pino({ level: 'silent' });
  const custom = options.stores || options.relayWebhooks;
  const opened = custom
    ? (options.stores ?? ((s: Stores) => s))(
        createEmbeddedStores(config.dataDir, config.sync, config.streamReplay, log, { relayWebhooks: options.relayWebhooks === true }),
      )
    : undefined;
  const services = createServices(config, { clock: () => clock.now, log, ...(opened ? { stores: opened } : {}) });
  const app = await buildApp(services);
  await app.ready();

  async function newWorkspace(name = 'test'): Promise<TestWorkspace> {
    const ws = await services.stores.tenants.createWorkspace(name, clock.now);
    const { key, apiKey } = await services.stores.tenants.createKey(ws.id, clock.now);
    return { id: ws.id, apiKey, keyId: key.id, headers: { 'x-api-key': apiKey, 'x-workspace-id': ws.id } };
  }

  const ws = await newWorkspace('main');
  return {
    app,
    services,
    clock,
    dataDir,
    ws,
    newWorkspace,
    async close() {
      await app.close();
      await services.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
