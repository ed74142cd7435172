/**
 * The tenant store's alert rules and prices, on every backend (run from the store contract): versions that
 * only move forward, a stale or concurrent save refused, workspaces apart, and what was saved kept across a reopen.
 */
import { expect, it } from 'vitest';
import type { AlertRule } from '../../src/alerts/rules.ts';
import type { Stores } from '../../src/store/types.ts';

const rule = (id: string, seconds: number): AlertRule => ({ id, kind: 'long_call', seconds, enabled: true });

export function settingsContract(
  open: (place?: string) => Promise<{ stores: Stores; place: string }>,
  reopen: (place: string) => Promise<Stores>,
): void {
  it('alert rules: versioned per workspace, a stale version refused, kept across a reopen', async () => {
    const { stores, place } = await open();
    const t = stores.tenants;
    expect(await t.getAlertRules('wsA')).toEqual({ version: 0, rules: [] });
    expect(await t.putAlertRules('wsA', [rule('a', 60)], 0)).toEqual({ version: 1, rules: [rule('a', 60)] });
    expect(await t.putAlertRules('wsA', [rule('b', 60)], 0)).toBeUndefined();
    expect(await t.putAlertRules('wsA', [rule('b', 90)], 1)).toEqual({ version: 2, rules: [rule('b', 90)] });
    expect(await t.putAlertRules('wsA', [], 1)).toBeUndefined();
    expect(await t.putAlertRules('wsA', [rule('c', 30)])).toMatchObject({ version: 3 });
    // A version nobody has seen is stale too.
    expect(await t.putAlertRules('wsB', [rule('x', 5)], 7)).toBeUndefined();
    expect(await t.getAlertRules('wsB')).toEqual({ version: 0, rules: [] });
    // Two saves over the same version: exactly one wins.
    const raced = await Promise.all([t.putAlertRules('wsC', [rule('one', 1)], 0), t.putAlertRules('wsC', [rule('two', 2)], 0)]);
    expect(raced.filter((r) => r !== undefined)).toHaveLength(1);
    await stores.close();
    const again = await reopen(place);
    expect(await again.tenants.getAlertRules('wsA')).toEqual({ version: 3, rules: [rule('c', 30)] });
    expect((await again.tenants.getAlertRules('wsC')).version).toBe(1);
  });

  it('prices: per workspace, replaced whole', async () => {
    const { stores } = await open();
    const t = stores.tenants;
    expect(await t.getPrices('wsA')).toBeNull();
    await t.putPrices('wsA', { currency: 'USD', llmPromptPer1k: 0.5 });
    await t.putPrices('wsA', { currency: 'EUR', sttPerMinute: 0.01 });
    expect(await t.getPrices('wsA')).toEqual({ currency: 'EUR', sttPerMinute: 0.01 });
    expect(await t.getPrices('wsB')).toBeNull();
  });
}
