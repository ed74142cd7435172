/**
 * Webhook news the outbox could not take when it happened (its database unreachable for a moment). The call
 * change is committed and acknowledged by then, and the sender's retry of it would be deduplicated away, so
 * this list holds the news's only copy until the outbox takes it. In memory, hence bounded: past `limit`
 * entries the oldest go, so an outage that outlasts it costs the oldest news rather than the process.
 */
export class Backlog<T> {
  private items: T[] = [];

  constructor(readonly limit: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Appends, then drops the oldest entries beyond the limit; returns how many were dropped. */
  push(entries: readonly T[]): number {
    for (const entry of entries) this.items.push(entry);
    const over = this.items.length - this.limit;
    if (over <= 0) return 0;
    this.items.splice(0, over);
    return over;
  }

  /** The entry at `index`, oldest first. */
  at(index: number): T | undefined {
    return this.items[index];
  }

  /** Removes `entry` (it was taken); false when it is no longer here (dropped meanwhile). */
  remove(entry: T): boolean {
    const index = this.items.indexOf(entry);
    if (index < 0) return false;
    this.items.splice(index, 1);
    return true;
  }
}
