/**
 * Several LiveKit projects, one livecalls. The configuration's project (LIVEKIT_URL / LIVEKIT_API_KEY /
 * LIVEKIT_API_SECRET) serves every workspace that names none of its own; a workspace may name its own
 * (`livecalls workspaces set-livekit`), stored with its secret sealed by the server secret.
 *
 * A project is identified by its API key, which is what LiveKit puts in the `iss` of every token it signs:
 *  - a webhook or signed agent request is verified with the secret of the key its token names;
 *  - a project can only touch the workspaces it serves (`mayTouch`): the configuration's project the
 *    workspaces without their own, a workspace's project that workspace (and any other naming the same key);
 *  - call control for a workspace goes to its own project.
 * Projects read from the store are remembered for a short while (`ttlMs`), so a webhook does not cost a
 * tenant-store read and a decryption; `set-livekit` takes effect within that time.
 */
import { AppError } from '../errors.ts';
import { LiveKitSignature } from '../ingest/signature.ts';
import type { TenantStore } from '../store/types.ts';
import { createLiveKitControl, type CallControl } from './livekit.ts';
import type { ServerSecret } from './secrets.ts';

export interface LiveKitProject {
  apiKey: string;
  /** http(s) URL of the server API; undefined when only webhooks are configured. */
  url: string | undefined;
  signature: LiveKitSignature;
  /** Undefined without a URL. */
  control: CallControl | undefined;
}

export interface ProjectsOptions {
  tenants: TenantStore;
  secret: ServerSecret;
  /** The configuration's project, if set. */
  fallback: { url: string | undefined; apiKey: string; apiSecret: string } | undefined;
  /** The fallback is the simulation key pair (no LiveKit configured), not a real project. */
  fallbackIsSimulation?: boolean;
  ttlMs?: number;
  now?: () => number;
  /** Builds call control for a project (tests substitute nothing here; it is the real client). */
  createControl?: (url: string, apiKey: string, apiSecret: string) => CallControl;
}

/** The `iss` (API key) a LiveKit-style JWT names, read before it is verified; undefined when unreadable. */
export function issuerOf(authorization: string): string | undefined {
  const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : authorization;
  const payload = token.split('.')[1];
  if (!payload || payload.length > 16_384) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const iss = claims && typeof claims === 'object' ? (claims as { iss?: unknown }).iss : undefined;
    return typeof iss === 'string' && iss !== '' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export class LiveKitProjects {
  readonly fallback: LiveKitProject | undefined;
  private readonly cache = new Map<string, { until: number; value: LiveKitProject | undefined }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly createControl: (url: string, apiKey: string, apiSecret: string) => CallControl;

  constructor(private readonly options: ProjectsOptions) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.createControl = options.createControl ?? createLiveKitControl;
    const f = options.fallback;
    this.fallback = f && this.build(f.url, f.apiKey, f.apiSecret);
  }

  private build(url: string | undefined, apiKey: string, apiSecret: string): LiveKitProject {
    return {
      apiKey,
      url,
      signature: new LiveKitSignature(apiKey, apiSecret),
      control: url ? this.createControl(url, apiKey, apiSecret) : undefined,
    };
  }

  private async cached(key: string, load: () => Promise<LiveKitProject | undefined>): Promise<LiveKitProject | undefined> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = await load();
    // Oldest out first: tokens naming random keys cannot flush the projects in use all at once.
    this.cache.delete(key);
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { until: this.now() + this.ttlMs, value });
    return value;
  }

  /** Forgets what was remembered (after `set-livekit` in this process). */
  forget(): void {
    this.cache.clear();
  }

  /** The project whose API key signed the token in `authorization`, if livecalls knows that key. */
  async forToken(authorization: string): Promise<LiveKitProject | undefined> {
    const iss = issuerOf(authorization);
    if (!iss) return undefined;
    // The configuration's project first: a workspace cannot claim its key (set-livekit refuses it). The
    // simulation pair stands in only when nothing else has the key.
    if (this.fallback?.apiKey === iss && !this.options.fallbackIsSimulation) return this.fallback;
    const own = await this.cached(`key:${iss}`, async () => {
      const bound = (await this.options.tenants.workspacesOfLiveKitKey(iss))[0];
      if (!bound) return undefined;
      const secret = this.options.secret.open(bound.project.secret, bound.workspaceId);
      return this.build(bound.project.url, bound.project.apiKey, secret);
    });
    return own ?? (this.fallback?.apiKey === iss ? this.fallback : undefined);
  }

  /** The project serving a workspace: its own, else the configuration's (undefined when neither exists). */
  async forWorkspace(workspaceId: string): Promise<LiveKitProject | undefined> {
    const own = await this.cached(`ws:${workspaceId}`, async () => {
      const project = await this.options.tenants.getLiveKit(workspaceId);
      if (!project) return undefined;
      return this.build(project.url, project.apiKey, this.options.secret.open(project.secret, workspaceId));
    });
    return own ?? this.fallback;
  }

  /** Whether project `apiKey` serves `workspaceId`. */
  async mayTouch(workspaceId: string, apiKey: string): Promise<boolean> {
    return (await this.forWorkspace(workspaceId))?.apiKey === apiKey;
  }

  /** Call control for a workspace; 503 when its project has no URL. */
  async controlFor(workspaceId: string): Promise<CallControl> {
    const control = (await this.forWorkspace(workspaceId))?.control;
    if (!control) {
      throw new AppError(
        'call_control_not_configured',
        "call control is not configured: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or the workspace's own project with `livecalls workspaces set-livekit`)",
      );
    }
    return control;
  }

  /** Every project with call control, with which workspaces it serves. */
  async withControl(): Promise<{ project: LiveKitProject & { control: CallControl }; serves: (workspaceId: string) => boolean }[]> {
    const own = await this.options.tenants.liveKitProjects();
    const elsewhere = new Set(own.flatMap((g) => g.workspaceIds));
    const out: { project: LiveKitProject & { control: CallControl }; serves: (workspaceId: string) => boolean }[] = [];
    const fallback = this.fallback;
    if (fallback?.control) out.push({ project: { ...fallback, control: fallback.control }, serves: (ws) => !elsewhere.has(ws) });
    for (const group of own) {
      const first = group.workspaceIds[0];
      const project = first === undefined ? undefined : await this.forWorkspace(first);
      const members = new Set(group.workspaceIds);
      if (project?.control) out.push({ project: { ...project, control: project.control }, serves: (ws) => members.has(ws) });
    }
    return out;
  }
}
