/**
 * A workspace's alert rules (compiled) and prices, cached in memory: every ingest batch needs them, and they
 * change rarely, so reading the tenant store per event would cost a round trip for an answer that is almost
 * always the same.
 *
 * Why this policy: an entry is used as it is for `ttlMs`, then refreshed in the background while the old
 * version keeps serving (an ingest never waits on the store once the workspace is known). A save through this
 * instance replaces the entry at once; one through another instance is seen within `ttlMs`. A refresh that
 * fails keeps the last known rules rather than dropping them.
 */
import type { Logger } from 'pino';
import { compileRules, NO_RULES, type AlertRuleSet, type CompiledRules } from '../alerts/rules.ts';
import type { Prices } from '../domain/telemetry-view.ts';
import type { TenantStore } from '../store/types.ts';

export interface SettingsEntry {
  rules: CompiledRules;
  prices: Prices | null;
}

interface Cached extends SettingsEntry {
  loadedAt: number;
  refreshing: Promise<SettingsEntry> | undefined;
}

export class WorkspaceSettings {
  private readonly entries = new Map<string, Cached>();

  constructor(
    private readonly tenants: TenantStore,
    private readonly opts: { ttlMs: number; now: () => number; log: Logger; maxEntries?: number },
  ) {}

  /** The entry if this instance has one (fresh or not); never reads the store. */
  peek(workspaceId: string): SettingsEntry | undefined {
    return this.entries.get(workspaceId);
  }

  /** The workspace's settings: from memory when known (refreshing in the background once stale), else from the store. */
  async get(workspaceId: string): Promise<SettingsEntry> {
    const hit = this.entries.get(workspaceId);
    if (!hit) return this.refresh(workspaceId);
    if (this.opts.now() - hit.loadedAt >= this.opts.ttlMs && !hit.refreshing) {
      this.refresh(workspaceId).catch((err: unknown) =>
        this.opts.log.warn({ err, workspaceId }, 'alert rules refresh failed; keeping the last known'),
      );
    }
    return hit;
  }

  /** Records what this instance just saved. */
  setRules(workspaceId: string, set: AlertRuleSet): void {
    const hit = this.entries.get(workspaceId);
    // Not known here yet: the next read loads rules and prices together (caching the rules alone would
    // stand in "no prices" for the workspace's real ones until the entry expires).
    if (!hit || hit.rules.version > set.version) return;
    this.store(workspaceId, { rules: compileRules(set, workspaceId), prices: hit.prices }, true);
  }

  setPrices(workspaceId: string, prices: Prices): void {
    const hit = this.entries.get(workspaceId);
    if (hit) hit.prices = prices;
  }

  private store(workspaceId: string, entry: SettingsEntry, keepAge = false): void {
    const prior = this.entries.get(workspaceId);
    const max = this.opts.maxEntries ?? 10_000;
    if (!prior && this.entries.size >= max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(workspaceId, { ...entry, loadedAt: keepAge && prior ? prior.loadedAt : this.opts.now(), refreshing: undefined });
  }

  private refresh(workspaceId: string): Promise<SettingsEntry> {
    const hit = this.entries.get(workspaceId);
    const loading = (async () => {
      const [set, prices] = await Promise.all([this.tenants.getAlertRules(workspaceId), this.tenants.getPrices(workspaceId)]);
      const current = this.entries.get(workspaceId);
      // A save through this instance while the read was in flight is newer: keep it.
      const rules =
        current && current.rules.version > set.version ? current.rules : set.version === 0 ? NO_RULES : compileRules(set, workspaceId);
      const entry = { rules, prices };
      this.store(workspaceId, entry);
      return entry;
    })();
    if (hit) {
      hit.refreshing = loading;
      // A failed refresh waits its turn again rather than being retried by every batch.
      loading
        .catch(() => (hit.loadedAt = this.opts.now()))
        .finally(() => {
          if (hit.refreshing === loading) hit.refreshing = undefined;
        });
    }
    return loading;
  }
}
