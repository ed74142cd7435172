/**
 * The brakes on LLM requests: a token bucket per workspace (one workspace's busy hour cannot use up the
 * model for the others) and one backoff for the whole server (a failing or rate-limited model is one model,
 * whichever workspace's request failed). Time comes in as an argument, so tests drive it.
 */

/** Timers the LLM service runs on; tests pass a manual clock. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Bucket {
  tokens: number;
  at: number;
}

/** `perMinute` requests per workspace per minute, in a burst of at most `perMinute`. */
export class WorkspaceRate {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes a request's token: 0 when taken, else the ms until one is available (nothing is taken then). */
  take(workspaceId: string, now: number): number {
    const b = this.buckets.get(workspaceId) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    if (this.buckets.size >= 10_000 && !this.buckets.has(workspaceId)) this.forgetFull(now);
    this.buckets.set(workspaceId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs));
  }

  /** A full bucket is the same as no bucket: dropped, so the map stays as small as the busy workspaces. */
  private forgetFull(now: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(id);
  }
}

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/**
 * After a failure, no request for a while: 1 s, doubling with each failure in a row up to 5 minutes, or
 * longer when the server said so (Retry-After, capped at the same 5 minutes). A success resets it.
 */
export class Backoff {
  private failures = 0;
  until = 0;

  failed(now: number, retryAfterMs?: number): number {
    this.failures += 1;
    const own = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(20, this.failures - 1));
    const wait = Math.min(BACKOFF_MAX_MS, Math.max(own, retryAfterMs ?? 0));
    this.until = Math.max(this.until, now + wait);
    return wait;
  }

  succeeded(): void {
    this.failures = 0;
    this.until = 0;
  }
}
