/**
 * `livecalls` command line. Tenant commands open the same store as the server (safe while it runs) and
 * print one JSON line each, so scripts can parse them.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { openTenants } from '../store/open.ts';

const USAGE = `usage:
  livecalls workspaces create --name NAME
  livecalls keys create --workspace WORKSPACE_ID
  livecalls keys revoke KEY_ID
  livecalls simulate --calls N --workspace ID [--api-key KEY] [--url URL] [--concurrency N] [--turn-delay MS]

Environment: LIVECALLS_DATA_DIR (default ./data), or DATABASE_URL when set, for the tenant commands; LIVEKIT_API_KEY and
LIVEKIT_API_SECRET (as the server's) for simulate.`;

class UsageError extends Error {}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function tenantCommand(args: string[]): Promise<void> {
  const [resource, action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, workspace: { type: 'string' } },
    allowPositionals: true,
  });
  const config = loadConfig();
  const store = await openTenants(config);
  try {
    const now = Date.now();
    if (resource === 'workspaces' && action === 'create') {
      const name = values.name?.trim();
      if (!name) throw new UsageError('--name is required');
      if (name.length > 200) throw new UsageError('--name is at most 200 characters');
      const workspace = await store.tenants.createWorkspace(name, now);
      const { key, apiKey } = await store.tenants.createKey(workspace.id, now);
      print({ workspaceId: workspace.id, apiKey, keyId: key.id });
    } else if (resource === 'keys' && action === 'create') {
      if (!values.workspace) throw new UsageError('--workspace is required');
      const { key, apiKey } = await store.tenants.createKey(values.workspace, now);
      print({ workspaceId: key.workspaceId, apiKey, keyId: key.id });
    } else if (resource === 'keys' && action === 'revoke') {
      const keyId = positionals[0];
      if (!keyId) throw new UsageError('KEY_ID is required');
      if (!(await store.tenants.revokeKey(keyId, now))) throw new AppError('not_found', `no active key ${keyId}`);
      print({ keyId, revoked: true });
    } else {
      throw new UsageError(`unknown command: ${args.join(' ')}`);
    }
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    const [command] = argv;
    if (command === 'workspaces' || command === 'keys') {
      await tenantCommand(argv);
    } else if (command === 'simulate') {
      const { simulateCommand } = await import('./simulate.ts');
      await simulateCommand(argv.slice(1));
    } else if (command === undefined || command === 'help' || command === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    } else {
      throw new UsageError(`unknown command: ${command}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')) {
      process.stderr.write(`livecalls: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof AppError) {
      process.stderr.write(`livecalls: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
