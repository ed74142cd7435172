/** How the sender batches and retries, with its defaults. */

export interface SenderTuning {
  /** Events per request, at most 100 (livecalls' limit). Default 50. */
  batchSize: number;
  /** How long the first waiting event may wait for company. Default 50 ms. */
  flushIntervalMs: number;
  /** Waiting events kept at most; past that the oldest is dropped and counted. Default 2,000. */
  maxQueue: number;
  /** Tries per batch (the first included). Default 8. */
  maxAttempts: number;
  /** First backoff; doubles per try, with jitter, up to `retryMaxMs`. Default 250 ms. */
  retryBaseMs: number;
  /** Longest wait between tries, Retry-After included. Default 30,000 ms. */
  retryMaxMs: number;
  /** One request's time limit. Default 5,000 ms. */
  requestTimeoutMs: number;
}

export const DEFAULT_TUNING: SenderTuning = {
  batchSize: 50,
  flushIntervalMs: 50,
  maxQueue: 2_000,
  maxAttempts: 8,
  retryBaseMs: 250,
  retryMaxMs: 30_000,
  requestTimeoutMs: 5_000,
};

export function clampInt(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(Number.isFinite(n) ? n : min)));
}

export function definedOnly(o: Partial<SenderTuning>): Partial<SenderTuning> {
  const out: Partial<SenderTuning> = {};
  for (const k of Object.keys(DEFAULT_TUNING) as (keyof SenderTuning)[]) {
    const v = o[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}
