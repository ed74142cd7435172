/**
 * The process: config -> services -> app -> listen. Prints the first workspace and key once on an empty
 * store, ends stale calls in the background, and closes cleanly on SIGTERM/SIGINT.
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createServices, type Services } from './services.ts';
import { openStores } from './store/open.ts';
import pino from 'pino';

async function bootstrapFirstWorkspace(services: Services, baseUrl: string): Promise<void> {
  const { tenants } = services.stores;
  if ((await tenants.countWorkspaces()) > 0) return;
  const now = services.clock();
  const workspace = await tenants.createWorkspace('default', now);
  const { apiKey } = await tenants.createKey(workspace.id, now);
  // Shown once: only the key's hash is stored.
  process.stdout.write(
    [
      '',
      'livecalls: first start, created a workspace and an API key (shown only this once):',
      `  workspace id: ${workspace.id}`,
      `  API key:      ${apiKey}`,
      '',
      `  curl -s ${baseUrl}/v2/api/active-calls -H 'x-api-key: ${apiKey}' -H 'x-workspace-id: ${workspace.id}'`,
      '',
    ].join('\n') + '\n',
  );
}

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`livecalls: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel });
  let stores;
  try {
    stores = await openStores(config, log);
  } catch (err) {
    log.fatal({ err }, 'cannot open the stores (check REDIS_URL / DATABASE_URL / LIVECALLS_DATA_DIR)');
    process.exit(1);
  }
  const services = createServices(config, { log, stores });
  const app = await buildApp(services);
  // Slow clients cannot hold sockets forever; LiveKit's webhook timeout is a few seconds anyway.
  app.server.requestTimeout = 30_000;
  app.server.headersTimeout = 15_000;
  app.server.keepAliveTimeout = 65_000;

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  await bootstrapFirstWorkspace(services, `http://${host}:${config.port}`);
  if (!services.signature) services.log.warn('LIVEKIT_API_KEY/LIVEKIT_API_SECRET not set: LiveKit webhooks will be refused');
  if (!services.control) services.log.warn('LIVEKIT_URL not set: end-call answers 503 (call control not configured)');
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') {
      process.stderr.write(
        `livecalls: ${host}:${config.port} is already in use (another livecalls, or another program). ` +
          'Stop it, or start on a free port: PORT=3001 npm start\n',
      );
      await services.close();
      process.exit(1);
    }
    throw err;
  }
  services.sweeper.start();
  services.webhooks.start();
  services.reconciler.start();
  services.alerts.start();

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    services.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app
      .close()
      .then(() => services.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        services.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
