/**
 * A backing server (Redis, PostgreSQL) that cannot be reached is a 503 `service_unavailable`: LiveKit and
 * agent workers retry, and nothing half-done was acknowledged. Anything else a store throws (a Lua error, a
 * constraint, a `TypeError`) is a bug or bad data: retrying gives the same answer, so it stays what it is and
 * the error handler makes it a 500 with the request id. Told apart here, where the errors enter, by type and
 * connection state, never by message text.
 */
import { ReplyError } from 'ioredis';
import pg from 'pg';
import { AppError } from '../errors.ts';

/** Says whether an error a backend raised means the backend could not be reached. */
export type OutageTest = (err: unknown) => boolean;

/** Errors of Node's network stack (they carry `syscall` and one of these codes). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isNetworkError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && NETWORK_CODES.has(err.code);
}

/**
 * PostgreSQL: the server's answers are `DatabaseError`s whose SQLSTATE says which are outages: class 08
 * (connection exception), shutting down, class 53 (insufficient resources: too many connections, disk full,
 * out of memory), a primary that has become read-only (25006, a failover in progress), and a serialization
 * failure or deadlock (40001, 40P01), which the same statement retried a moment later gets past. pg and pg-pool
 * report a lost or timed-out connection with a plain `Error`: everything else they raise has a more specific type.
 */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '25006', '40001', '40P01']);

export const pgOutage: OutageTest = (err) => {
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    return code.startsWith('08') || code.startsWith('53') || PG_UNAVAILABLE.has(code);
  }
  return isNetworkError(err) || (err instanceof Error && err.constructor === Error);
};

/**
 * Redis: ioredis rejects with plain `Error`s when the connection is down (no offline queue) or was lost
 * mid-command; a reply from the server (`ReplyError`, such as a Lua error) proves it was reachable. So a
 * command failing while the client is not connected is an outage.
 */
export function redisOutage(client: { readonly status: string }): OutageTest {
  return (err) => isNetworkError(err) || (!isReplyError(err) && client.status !== 'ready');
}

/** ioredis declares it untyped. */
const RedisReplyError = ReplyError as abstract new (...args: never[]) => Error;

/** A reply from the Redis server: it was reachable. */
function isReplyError(err: unknown): boolean {
  return err instanceof RedisReplyError;
}

/**
 * A backend that answered nothing within the guard's time limit: a partition or a stalled server, which a
 * TCP connection does not notice for minutes. Always an outage.
 */
export class BackendTimeoutError extends Error {
  override name = 'BackendTimeoutError';
}

/** Resolves as `work` does, or rejects with `BackendTimeoutError` after `ms`. */
export async function within<T>(what: string, ms: number | undefined, work: Promise<T>): Promise<T> {
  if (!ms) return work;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BackendTimeoutError(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** An error a guarded store already classified as an outage (see `guard`). */
export function isOutage(err: unknown): boolean {
  return err instanceof AppError && err.code === 'service_unavailable';
}

export function unavailable(what: string, err: unknown, isOutage: OutageTest): unknown {
  if (err instanceof AppError || !isOutage(err)) return err;
  return new AppError('service_unavailable', `${what} is unavailable; try again`, { cause: err });
}

/**
 * Wraps every method of a store so that a backend that cannot be reached surfaces as `service_unavailable`.
 * With `timeoutMs`, a call that has not settled by then fails as an outage too (the operation itself is not
 * cancelled: what it acknowledged later is deduplicated when the caller retries).
 */
export function guard<T extends object>(
  what: string,
  store: T,
  isOutage: OutageTest,
  timeoutMs?: number,
  /** Methods that bound their own time (waiting in a local queue is not the backend's slowness). */
  untimed: readonly string[] = [],
): T {
  const outage: OutageTest = (err) => err instanceof BackendTimeoutError || isOutage(err);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const limit = untimed.includes(String(prop)) ? undefined : timeoutMs;
      return async (...args: unknown[]) => {
        try {
          return await within(what, limit, (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        } catch (err) {
          throw unavailable(what, err, outage);
        }
      };
    },
  });
}
