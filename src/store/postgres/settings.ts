/** A workspace's alert rules and prices in PostgreSQL (part of its tenant store), shared by every instance. */
import type pg from 'pg';
import type { AlertRule, AlertRuleSet } from '../../alerts/rules.ts';
import type { Prices } from '../../domain/telemetry-view.ts';
import type { TenantStore } from '../types.ts';

type SettingsStore = Pick<TenantStore, 'getAlertRules' | 'putAlertRules' | 'getPrices' | 'putPrices'>;

export function createPostgresSettings(pool: pg.Pool): SettingsStore {
  /**
   * One statement per case, so a save is atomic without a transaction: no version expected, an upsert; version
   * 0 expected, an insert that does nothing when a row exists; version N, an update of the row at version N.
   */
  async function put(workspaceId: string, rules: readonly AlertRule[], expected: number | undefined): Promise<AlertRuleSet | undefined> {
    const json = JSON.stringify(rules);
    const sql =
      expected === undefined
        ? `INSERT INTO alert_rules (workspace_id, version, rules) VALUES ($1, 1, $2)
           ON CONFLICT (workspace_id) DO UPDATE SET version = alert_rules.version + 1, rules = EXCLUDED.rules RETURNING version, rules`
        : expected === 0
          ? `INSERT INTO alert_rules (workspace_id, version, rules) VALUES ($1, 1, $2) ON CONFLICT DO NOTHING RETURNING version, rules`
          : `UPDATE alert_rules SET version = version + 1, rules = $2 WHERE workspace_id = $1 AND version = $3 RETURNING version, rules`;
    const values = expected === undefined || expected === 0 ? [workspaceId, json] : [workspaceId, json, expected];
    const row = (await pool.query<{ version: number; rules: AlertRule[] }>(sql, values)).rows[0];
    return row && { version: row.version, rules: row.rules };
  }

  return {
    async getAlertRules(workspaceId) {
      const row = (
        await pool.query<{ version: number; rules: AlertRule[] }>('SELECT version, rules FROM alert_rules WHERE workspace_id = $1', [
          workspaceId,
        ])
      ).rows[0];
      return row ? { version: row.version, rules: row.rules } : { version: 0, rules: [] };
    },
    putAlertRules: put,
    async getPrices(workspaceId) {
      const row = (await pool.query<{ prices: Prices }>('SELECT prices FROM workspace_prices WHERE workspace_id = $1', [workspaceId]))
        .rows[0];
      return row?.prices ?? null;
    },
    async putPrices(workspaceId, prices) {
      await pool.query(
        'INSERT INTO workspace_prices (workspace_id, prices) VALUES ($1, $2) ON CONFLICT (workspace_id) DO UPDATE SET prices = EXCLUDED.prices',
        [workspaceId, JSON.stringify(prices)],
      );
    },
  };
}
