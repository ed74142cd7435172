/**
 * Leases in SQLite: one row per lease name. Taking a lease is one conditional upsert, so two processes on
 * the same file cannot both win: the row is written only when it is free, expired, or already ours.
 */
import type Database from 'better-sqlite3';

export function createEmbeddedLeases(
  db: Database.Database,
): (name: string, holder: string, ttlMs: number, now: number) => Promise<boolean> {
  const take = db.prepare(
    `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
     ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`,
  );
  return async (name, holder, ttlMs, now) => take.run({ name, holder, expiresAt: now + ttlMs, now }).changes > 0;
}
