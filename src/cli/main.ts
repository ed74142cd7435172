/**
 * `livecalls` command line. Tenant commands open the same store as the server (safe while it runs) and
 * print one JSON line each, so scripts can parse them.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { loadServerSecret, SIMULATION_KEY } from '../control/secrets.ts';
import { AppError } from '../errors.ts';
import { openTenants } from '../store/open.ts';

/** Each command's help, shown by `livecalls <command> --help` and, all together, by `livecalls --help`. */
const HELP: Record<string, string> = {
  'workspaces create': `livecalls workspaces create --name NAME
  Creates a workspace and its first API key; prints {"workspaceId","apiKey","keyId"}. The key is shown only here.`,
  'workspaces list': `livecalls workspaces list
  One JSON line per workspace: id, name, creation time, and its own LiveKit project (URL and API key, never the
  secret) or null when it uses the configured one.`,
  'workspaces set-livekit': `livecalls workspaces set-livekit WORKSPACE_ID --url URL --api-key KEY --api-secret SECRET|-
livecalls workspaces set-livekit WORKSPACE_ID --clear
  Gives the workspace its own LiveKit project: its webhooks are verified with this key pair, its calls are
  controlled through it, and it reaches this workspace only. The secret is stored sealed with the server
  secret; "-" reads it from standard input (keeps it out of the process list). --clear returns the workspace
  to the configured project. A running server sees the change within 5 seconds.`,
  'keys create': `livecalls keys create --workspace WORKSPACE_ID
  Another API key for the workspace; prints {"workspaceId","apiKey","keyId"}. The key is shown only here.`,
  'keys list': `livecalls keys list --workspace WORKSPACE_ID
  One JSON line per key of the workspace: keyId, creation and revocation times. Never the key or its hash.`,
  'keys revoke': `livecalls keys revoke KEY_ID
  Revokes the key. A running server refuses it at once if the revocation went through it, else within
  LIVECALLS_KEY_CACHE_TTL (default 5s).`,
  simulate: `livecalls simulate --calls N --workspace ID [--api-key KEY] [--url URL] [--concurrency N] [--turn-delay MS]
  Plays realistic calls into a running server through its real ingest routes (signed webhooks and agent events).`,
};

const USAGE = `usage:
${Object.values(HELP)
  .map((h) => `  ${h.split('\n')[0] ?? ''}`)
  .join('\n')}

  livecalls <command> --help   what a command does

Environment: LIVECALLS_DATA_DIR (default ./data), or DATABASE_URL when set, for the tenant commands (with DATABASE_URL,
LIVECALLS_SECRET as the server's: it seals the LiveKit secret); LIVEKIT_API_KEY and LIVEKIT_API_SECRET (as the
server's) for simulate.`;

class UsageError extends Error {}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** A LiveKit project from the options, checked as the server's own configuration is. */
async function liveKitProject(
  url: string | undefined,
  apiKey: string | undefined,
  apiSecret: string | undefined,
): Promise<{ url: string; apiKey: string; secret: string }> {
  if (!url || !apiKey || !apiSecret) throw new UsageError('--url, --api-key and --api-secret are required (or --clear)');
  if (!/^(https?|wss?):\/\/[^\s/]+/.test(url))
    throw new UsageError('--url must be the LiveKit server URL (https://, wss://, http:// or ws://)');
  if (!/^[\x21-\x7e]{1,256}$/.test(apiKey)) throw new UsageError('--api-key must be a LiveKit API key');
  const secret = apiSecret === '-' ? await readStdin() : apiSecret;
  if (secret.length < 16) throw new UsageError('--api-secret is too short for a LiveKit API secret');
  // The server SDK speaks HTTP; the ws(s):// form clients use is accepted, as for LIVEKIT_URL.
  return { url: url.replace(/^ws/, 'http').replace(/\/+$/, ''), apiKey, secret };
}

async function tenantCommand(args: string[]): Promise<void> {
  const [resource, action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      workspace: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'api-secret': { type: 'string' },
      clear: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const command = `${resource ?? ''} ${action ?? ''}`;
  if (values.help) {
    const help = HELP[command];
    if (!help) throw new UsageError(`unknown command: ${args.join(' ')}`);
    process.stdout.write(`${help}\n`);
    return;
  }
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
    } else if (resource === 'workspaces' && action === 'list') {
      for (const ws of await store.tenants.listWorkspaces()) {
        print({ workspaceId: ws.id, name: ws.name, createdAt: new Date(ws.createdAt).toISOString(), livekit: ws.livekit });
      }
    } else if (resource === 'workspaces' && action === 'set-livekit') {
      const workspaceId = positionals[0];
      if (!workspaceId) throw new UsageError('WORKSPACE_ID is required');
      if (!(await store.tenants.getWorkspace(workspaceId))) throw new AppError('not_found', `unknown workspace ${workspaceId}`);
      if (values.clear) {
        await store.tenants.setLiveKit(workspaceId, null);
        print({ workspaceId, livekit: null });
        return;
      }
      const project = await liveKitProject(values.url, values['api-key'], values['api-secret']);
      const secret = loadServerSecret(config.secret, config.dataDir);
      // A key names one project everywhere (it is the `iss` of every token that project signs): a second
      // secret for it would let whoever registered it speak as the other's LiveKit.
      if (project.apiKey === config.livekit.apiKey) {
        throw new UsageError("that is the configured project's API key: workspaces without their own project use it already (--clear)");
      }
      if (project.apiKey === SIMULATION_KEY) {
        throw new UsageError(`${SIMULATION_KEY} is the simulator's key, not a LiveKit project's`);
      }
      for (const other of await store.tenants.workspacesOfLiveKitKey(project.apiKey)) {
        if (other.workspaceId === workspaceId) continue;
        if (other.project.url !== project.url || secret.open(other.project.secret, other.workspaceId) !== project.secret) {
          throw new AppError(
            'conflict',
            `API key ${project.apiKey} is already set for workspace ${other.workspaceId} with another URL or secret`,
          );
        }
      }
      await store.tenants.setLiveKit(workspaceId, { ...project, secret: secret.seal(project.secret, workspaceId) });
      print({ workspaceId, livekit: { url: project.url, apiKey: project.apiKey } });
    } else if (resource === 'keys' && action === 'create') {
      if (!values.workspace) throw new UsageError('--workspace is required');
      const { key, apiKey } = await store.tenants.createKey(values.workspace, now);
      print({ workspaceId: key.workspaceId, apiKey, keyId: key.id });
    } else if (resource === 'keys' && action === 'list') {
      if (!values.workspace) throw new UsageError('--workspace is required');
      if (!(await store.tenants.getWorkspace(values.workspace))) throw new AppError('not_found', `unknown workspace ${values.workspace}`);
      for (const key of await store.tenants.listKeys(values.workspace)) {
        print({
          keyId: key.id,
          workspaceId: key.workspaceId,
          createdAt: new Date(key.createdAt).toISOString(),
          revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
        });
      }
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
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${HELP.simulate}\n`);
        return 0;
      }
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
