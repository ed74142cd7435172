/**
 * Configuration: parsed once from the environment at start-up, validated with zod, frozen. The only reader
 * of `process.env`. A bad value stops start-up with the variable's name.
 */
import { z } from 'zod';

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "30m", "90s", "1h", "500ms"; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30m, 90s or 1h, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    LIVECALLS_DATA_DIR: z.string().min(1).default('./data'),
    LIVECALLS_SYNC: z.enum(['normal', 'full']).default('normal'),
    LIVECALLS_STALE_AFTER: duration('30m'),
    LIVECALLS_BODY_LIMIT: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    LIVECALLS_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
    LIVECALLS_KEY_CACHE_TTL: z
      .string()
      .default('5s')
      .transform((v, ctx) => {
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected a duration such as 5s or 500ms (0 turns the cache off), got "${v}"` });
          return z.NEVER;
        }
        return ms;
      }),
    LIVECALLS_RECONCILE_EVERY: duration('1m'),
    LIVECALLS_ALERTS_EVERY: duration('1s'),
    LIVECALLS_BACKEND_TIMEOUT: duration('2s'),
    LIVECALLS_LISTEN_TOKEN_TTL: duration('10m'),
    LIVECALLS_STREAM_HEARTBEAT: duration('15s'),
    LIVECALLS_STREAM_REPLAY: z.coerce.number().int().min(10).max(100_000).default(1_000),
    LIVECALLS_STREAM_MAX_CLIENTS: z.coerce.number().int().min(1).max(1_000_000).default(500),
    LIVECALLS_STREAM_BUFFER: z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    LIVECALLS_WEBHOOKS_ALLOW_HTTP: z.stringbool().default(false),
    LIVECALLS_WEBHOOKS_ALLOW_PRIVATE: z.stringbool().default(false),
    LIVECALLS_WEBHOOKS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(10),
    LIVECALLS_WEBHOOKS_TIMEOUT: duration('10s'),
    LIVECALLS_WEBHOOKS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
    LIVECALLS_WEBHOOKS_RETENTION: duration('720h'),
    LIVECALLS_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    LIVEKIT_URL: optionalString.pipe(z.url({ protocol: /^(https?|wss?)$/ }).optional()),
    LIVEKIT_API_KEY: optionalString,
    LIVEKIT_API_SECRET: optionalString,
    REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    LIVECALLS_REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('livecalls'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.LIVEKIT_API_KEY) !== Boolean(env.LIVEKIT_API_SECRET)) {
      const missing = env.LIVEKIT_API_KEY ? 'LIVEKIT_API_SECRET' : 'LIVEKIT_API_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'LIVEKIT_API_KEY and LIVEKIT_API_SECRET go together' });
    }
    if (env.LIVEKIT_URL && !env.LIVEKIT_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['LIVEKIT_API_KEY'], message: 'LIVEKIT_URL needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET' });
    }
  });

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  sync: 'normal' | 'full';
  /** ms without any event after which an active call is ended as stale */
  staleAfterMs: number;
  bodyLimit: number;
  /** requests per minute per API key; 0 disables */
  rateLimitPerMinute: number;
  /** ms a verified API key is trusted without asking the tenant store again (a revocation elsewhere takes up to this); 0: never */
  keyCacheTtlMs: number;
  /** ms a Redis or PostgreSQL call may take before the request answers 503 (a partition is not a hang) */
  backendTimeoutMs: number;
  /** ms between reconciliations of the active list with LiveKit's ListRooms */
  reconcileEveryMs: number;
  /** How often time-based alert rules (dead air, long calls) are evaluated. */
  alertsEveryMs: number;
  /** validity of a listen-in token, ms */
  listenTokenTtlMs: number;
  /** ms between heartbeats on an idle live stream */
  streamHeartbeatMs: number;
  /** entries of each workspace's live log kept for resuming streams */
  streamReplay: number;
  /** open streams one workspace may hold on one instance (429 beyond) */
  streamMaxClients: number;
  /** bytes of unsent data a stream client may fall behind by before it is disconnected */
  streamBufferBytes: number;
  logLevel: string;
  /**
   * Seals stored LiveKit secrets and signs stream tokens (control/secrets.ts). Undefined on the embedded
   * default: generated into the data directory on first start.
   */
  secret: string | undefined;
  webhooks: {
    /** Accept `http://` endpoint URLs (local development and tests); https only otherwise. */
    allowHttp: boolean;
    /** Deliver to loopback, private, link-local, … addresses (local development and tests); public ones only otherwise. */
    allowPrivate: boolean;
    /** Attempts per delivery before it is marked failed. */
    maxAttempts: number;
    /** ms an endpoint has to answer one attempt */
    timeoutMs: number;
    /** deliveries one instance sends at once */
    concurrency: number;
    /** ms finished deliveries stay in the delivery log */
    retentionMs: number;
  };
  /** Live call state in Redis when set; embedded otherwise. */
  redisUrl: string | undefined;
  /** Key prefix in Redis, so several deployments (or tests) can share one server. */
  redisPrefix: string;
  /** Workspaces, keys and the archive of ended calls in PostgreSQL when set; embedded otherwise. */
  databaseUrl: string | undefined;
  livekit: {
    /** http(s) URL of the LiveKit server API; undefined = call control not configured */
    url: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: e.LIVECALLS_DATA_DIR,
    sync: e.LIVECALLS_SYNC,
    staleAfterMs: e.LIVECALLS_STALE_AFTER,
    bodyLimit: e.LIVECALLS_BODY_LIMIT,
    rateLimitPerMinute: e.LIVECALLS_RATE_LIMIT,
    keyCacheTtlMs: e.LIVECALLS_KEY_CACHE_TTL,
    reconcileEveryMs: e.LIVECALLS_RECONCILE_EVERY,
    alertsEveryMs: e.LIVECALLS_ALERTS_EVERY,
    backendTimeoutMs: e.LIVECALLS_BACKEND_TIMEOUT,
    listenTokenTtlMs: e.LIVECALLS_LISTEN_TOKEN_TTL,
    streamHeartbeatMs: e.LIVECALLS_STREAM_HEARTBEAT,
    streamReplay: e.LIVECALLS_STREAM_REPLAY,
    streamMaxClients: e.LIVECALLS_STREAM_MAX_CLIENTS,
    streamBufferBytes: e.LIVECALLS_STREAM_BUFFER,
    logLevel: e.LOG_LEVEL,
    secret: e.LIVECALLS_SECRET,
    webhooks: Object.freeze({
      allowHttp: e.LIVECALLS_WEBHOOKS_ALLOW_HTTP,
      allowPrivate: e.LIVECALLS_WEBHOOKS_ALLOW_PRIVATE,
      maxAttempts: e.LIVECALLS_WEBHOOKS_MAX_ATTEMPTS,
      timeoutMs: e.LIVECALLS_WEBHOOKS_TIMEOUT,
      concurrency: e.LIVECALLS_WEBHOOKS_CONCURRENCY,
      retentionMs: e.LIVECALLS_WEBHOOKS_RETENTION,
    }),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.LIVECALLS_REDIS_PREFIX,
    databaseUrl: e.DATABASE_URL,
    livekit: Object.freeze({
      // The server SDK speaks HTTP; accept the ws(s):// URL clients use, as LiveKit's own tools do.
      url: e.LIVEKIT_URL?.replace(/^ws/, 'http'),
      apiKey: e.LIVEKIT_API_KEY,
      apiSecret: e.LIVEKIT_API_SECRET,
    }),
  });
}
