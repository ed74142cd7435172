/** A workspace's alert rules and prices in the embedded store (part of its tenant store). */
import type Database from 'better-sqlite3';
import type { AlertRule, AlertRuleSet } from '../../alerts/rules.ts';
import type { Prices } from '../../domain/telemetry-view.ts';
import type { TenantStore } from '../types.ts';

type SettingsStore = Pick<TenantStore, 'getAlertRules' | 'putAlertRules' | 'getPrices' | 'putPrices'>;

export function createEmbeddedSettings(db: Database.Database): SettingsStore {
  const selectRules = db.prepare<[string], { version: number; rules: string }>(
    'SELECT version, rules FROM alert_rules WHERE workspace_id = ?',
  );
  const upsertRules = db.prepare(
    `INSERT INTO alert_rules (workspace_id, version, rules) VALUES (?, 1, ?)
     ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1, rules = excluded.rules`,
  );
  const selectPrices = db.prepare<[string], { prices: string }>('SELECT prices FROM workspace_prices WHERE workspace_id = ?');
  const upsertPrices = db.prepare(
    'INSERT INTO workspace_prices (workspace_id, prices) VALUES (?, ?) ON CONFLICT (workspace_id) DO UPDATE SET prices = excluded.prices',
  );
  const read = (workspaceId: string): AlertRuleSet => {
    const row = selectRules.get(workspaceId);
    return row ? { version: row.version, rules: JSON.parse(row.rules) as AlertRule[] } : { version: 0, rules: [] };
  };
  // Read, compare and write in one immediate transaction: the CLI or another process cannot slip in between.
  const put = db.transaction((workspaceId: string, rules: readonly AlertRule[], expected: number | undefined) => {
    if (expected !== undefined && read(workspaceId).version !== expected) return undefined;
    upsertRules.run(workspaceId, JSON.stringify(rules));
    return read(workspaceId);
  });

  return {
    async getAlertRules(workspaceId) {
      return read(workspaceId);
    },
    async putAlertRules(workspaceId, rules, expectedVersion) {
      return put.immediate(workspaceId, rules, expectedVersion);
    },
    async getPrices(workspaceId) {
      const row = selectPrices.get(workspaceId);
      return row ? (JSON.parse(row.prices) as Prices) : null;
    },
    async putPrices(workspaceId, prices) {
      upsertPrices.run(workspaceId, JSON.stringify(prices));
    },
  };
}
