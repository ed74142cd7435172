/** A workspace's prices and alert rules, saved one after the other, both apply at once on this instance. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents } from '../helpers/livekit.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('saved settings', () => {
  it('prices then alert rules: the cost is estimated and the rule fires, with no wait for a cache', async () => {
    t = await createTestApp();
    const headers = { ...t.ws.headers, 'content-type': 'application/json' };
    expect(
      (await t.app.inject({ method: 'PUT', url: '/v2/api/prices', headers, payload: { currency: 'USD', llmPromptPer1k: 0.005 } }))
        .statusCode,
    ).toBe(200);
    const rules = { rules: [{ id: 'cancel', kind: 'phrase', enabled: true, side: 'customer', text: 'cancel' }] };
    expect((await t.app.inject({ method: 'PUT', url: '/v2/api/alert-rules', headers, payload: rules })).statusCode).toBe(200);
    const sent = await postAgentEvents(
      t.app,
      'r1',
      [
        { id: 'u1', createdAt: t.clock.now, type: 'usage', llmPromptTokens: 1000 },
        { id: 't1', createdAt: t.clock.now + 1, type: 'transcript', role: 'customer', content: 'I want to cancel my plan' },
      ],
      { headers: t.ws.headers },
    );
    expect(sent.statusCode).toBe(202);
    const call = await t.services.stores.calls.getActive(t.ws.id, 'r1');
    const details = (await t.app.inject({ url: `/v2/api/calls/${call?.id}`, headers: t.ws.headers })).json();
    expect(details.usage).toMatchObject({ estimatedCost: 0.005, currency: 'USD' });
    expect(details.alerts.map((a: { ruleId: string }) => a.ruleId)).toEqual(['cancel']);
  });
});
