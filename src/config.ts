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

const RETENTION = /^(\d+)(m|h|d)$/;
const RETENTION_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "90d", "12h", "30m" (a unit is required: a retention is never meant in seconds). */
export function parseRetention(text: string): number | undefined {
  const m = RETENTION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * RETENTION_MS[m[2] as keyof typeof RETENTION_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
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
    LIVECALLS_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    LIVECALLS_BACKEND_TIMEOUT: duration('2s'),
    LIVECALLS_LISTEN_TOKEN_TTL: duration('10m'),
    LIVECALLS_STREAM_HEARTBEAT: duration('15s'),
    LIVECALLS_STREAM_REPLAY: z.coerce.number().int().min(10).max(100_000).default(1_000),
    LIVECALLS_STREAM_MAX_CLIENTS: z.coerce.number().int().min(1).max(1_000_000).default(500),
    LIVECALLS_MAX_ACTIVE_CALLS: z.coerce.number().int().min(1).max(10_000_000).default(5_000),
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
    LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
    LIVECALLS_WEBHOOKS_RETENTION: duration('720h'),
    LIVECALLS_RETENTION: optionalString.transform((v, ctx) => {
      if (v === undefined || v === 'forever') return undefined;
      const ms = parseRetention(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a retention such as 90d, 12h or 30m (or forever), got "${v}"` });
        return z.NEVER;
      }
      return ms;
    }),
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
    LIVECALLS_LLM_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    LIVECALLS_LLM_MODEL: optionalString.pipe(z.string().max(200).optional()),
    LIVECALLS_LLM_API_KEY: optionalString,
    LIVECALLS_LLM_TIMEOUT: duration('20s'),
    LIVECALLS_LLM_DEBOUNCE: duration('2s'),
    LIVECALLS_LLM_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
    LIVECALLS_LLM_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(30),
    LIVECALLS_LLM_MAX_CHARS: z.coerce.number().int().min(500).max(1_000_000).default(12_000),
    LIVECALLS_LLM_MAX_LAG_TURNS: z.coerce.number().int().min(0).max(50).default(4),
    LIVECALLS_LLM_RESPONSE_FORMAT: z.enum(['json_schema', 'json_object']).default('json_schema'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.LIVEKIT_API_KEY) !== Boolean(env.LIVEKIT_API_SECRET)) {
      const missing = env.LIVEKIT_API_KEY ? 'LIVEKIT_API_SECRET' : 'LIVEKIT_API_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'LIVEKIT_API_KEY and LIVEKIT_API_SECRET go together' });
    }
    if (env.LIVEKIT_URL && !env.LIVEKIT_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['LIVEKIT_API_KEY'], message: 'LIVEKIT_URL needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET' });
    }
    if (env.LIVECALLS_LLM_URL && /^[a-z]+:\/\/[^/]*@/i.test(env.LIVECALLS_LLM_URL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['LIVECALLS_LLM_URL'],
        message: 'no credentials in the URL: put the key in LIVECALLS_LLM_API_KEY',
      });
    }
    if (env.LIVECALLS_LLM_URL && !env.LIVECALLS_LLM_MODEL) {
      ctx.addIssue({
        code: 'custom',
        path: ['LIVECALLS_LLM_MODEL'],
        message: 'LIVECALLS_LLM_URL needs the model to ask (e.g. gpt-4o-mini, llama3.1)',
      });
    }
    for (const name of ['LIVECALLS_LLM_MODEL', 'LIVECALLS_LLM_API_KEY'] as const) {
      if (env[name] && !env.LIVECALLS_LLM_URL) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'set LIVECALLS_LLM_URL too (the OpenAI-compatible base URL, e.g. http://localhost:11434/v1)',
        });
      }
    }
  });

/** The optional chat-completions model behind the insights (see docs/llm-insights.md). */
export interface LlmConfig {
  /** OpenAI-compatible base URL without the trailing slash, e.g. https://api.openai.com/v1 */
  url: string;
  model: string;
  /** Sent as a bearer token; undefined for local servers that need none. Never logged. */
  apiKey: string | undefined;
  /** ms one request may take before it is abandoned */
  timeoutMs: number;
  /** ms a call's transcript must stay unchanged before it is sent (turns in quick succession: one request) */
  debounceMs: number;
  /** requests in flight at once, all workspaces together */
  concurrency: number;
  /** requests per minute one workspace may cause */
  ratePerMinute: number;
  /** characters of transcript sent at most: the latest turns that fit */
  maxTranscriptChars: number;
  /** a result this many turns behind the live transcript is still served (0: only an up-to-date one) */
  maxLagTurns: number;
  /** json_schema (structured outputs) or json_object (JSON mode, for servers without json_schema) */
  responseFormat: 'json_schema' | 'json_object';
}

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
  /** When set, /metrics answers only `Authorization: Bearer <this>` (its series name every workspace's agents). */
  metricsToken: string | undefined;
  /** validity of a listen-in token, ms */
  listenTokenTtlMs: number;
  /** ms between heartbeats on an idle live stream */
  streamHeartbeatMs: number;
  /** entries of each workspace's live log kept for resuming streams */
  streamReplay: number;
  /** open streams one workspace may hold on one instance (429 beyond) */
  streamMaxClients: number;
  /** Active calls of one workspace beyond which agent events sent with an API key open no new call. */
  maxActiveCalls: number;
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
    /** deliveries of one workspace in flight at once, all instances together (per claim; see WebhookStore.claim) */
    workspaceConcurrency: number;
    /** ms finished deliveries stay in the delivery log */
    retentionMs: number;
  };
  /** Ended calls older than this (ms) are purged from the history; undefined keeps them forever. */
  retentionMs: number | undefined;
  /** Live call state in Redis when set; embedded otherwise. */
  redisUrl: string | undefined;
  /** Key prefix in Redis, so several deployments (or tests) can share one server. */
  redisPrefix: string;
  /** Workspaces, keys and the archive of ended calls in PostgreSQL when set; embedded otherwise. */
  databaseUrl: string | undefined;
  /** LLM insights; undefined (the default) = offline insights only. */
  llm: Readonly<LlmConfig> | undefined;
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
    metricsToken: e.LIVECALLS_METRICS_TOKEN || undefined,
    backendTimeoutMs: e.LIVECALLS_BACKEND_TIMEOUT,
    listenTokenTtlMs: e.LIVECALLS_LISTEN_TOKEN_TTL,
    streamHeartbeatMs: e.LIVECALLS_STREAM_HEARTBEAT,
    streamReplay: e.LIVECALLS_STREAM_REPLAY,
    streamMaxClients: e.LIVECALLS_STREAM_MAX_CLIENTS,
    maxActiveCalls: e.LIVECALLS_MAX_ACTIVE_CALLS,
    streamBufferBytes: e.LIVECALLS_STREAM_BUFFER,
    logLevel: e.LOG_LEVEL,
    secret: e.LIVECALLS_SECRET,
    webhooks: Object.freeze({
      allowHttp: e.LIVECALLS_WEBHOOKS_ALLOW_HTTP,
      allowPrivate: e.LIVECALLS_WEBHOOKS_ALLOW_PRIVATE,
      maxAttempts: e.LIVECALLS_WEBHOOKS_MAX_ATTEMPTS,
      timeoutMs: e.LIVECALLS_WEBHOOKS_TIMEOUT,
      concurrency: e.LIVECALLS_WEBHOOKS_CONCURRENCY,
      workspaceConcurrency: e.LIVECALLS_WEBHOOKS_WORKSPACE_CONCURRENCY,
      retentionMs: e.LIVECALLS_WEBHOOKS_RETENTION,
    }),
    retentionMs: e.LIVECALLS_RETENTION,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.LIVECALLS_REDIS_PREFIX,
    databaseUrl: e.DATABASE_URL,
    llm:
      e.LIVECALLS_LLM_URL && e.LIVECALLS_LLM_MODEL
        ? Object.freeze({
            url: e.LIVECALLS_LLM_URL.replace(/\/+$/, ''),
            model: e.LIVECALLS_LLM_MODEL,
            apiKey: e.LIVECALLS_LLM_API_KEY,
            timeoutMs: e.LIVECALLS_LLM_TIMEOUT,
            debounceMs: e.LIVECALLS_LLM_DEBOUNCE,
            concurrency: e.LIVECALLS_LLM_CONCURRENCY,
            ratePerMinute: e.LIVECALLS_LLM_RATE_LIMIT,
            maxTranscriptChars: e.LIVECALLS_LLM_MAX_CHARS,
            maxLagTurns: e.LIVECALLS_LLM_MAX_LAG_TURNS,
            responseFormat: e.LIVECALLS_LLM_RESPONSE_FORMAT,
          })
        : undefined,
    livekit: Object.freeze({
      // The server SDK speaks HTTP; accept the ws(s):// URL clients use, as LiveKit's own tools do.
      url: e.LIVEKIT_URL?.replace(/^ws/, 'http'),
      apiKey: e.LIVEKIT_API_KEY,
      apiSecret: e.LIVEKIT_API_SECRET,
    }),
  });
}
