/** GET /v2/api/stats through the real app: exact concurrency with active calls, filters, bounds, tenancy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestWorkspace } from '../helpers/app.ts';
import { endCall } from '../helpers/history.ts';

const MIN = 60_000;

describe('stats route', () => {
  let t: TestApp;
  let other: TestWorkspace;
  let H: number;

  beforeAll(async () => {
    t = await createTestApp();
    other = await t.newWorkspace('other');
    t.clock.advance(20 * MIN);
    // The hour before the clock's hour, aligned: three calls, two of them overlapping.
    H = Math.floor(t.clock.now / 3_600_000) * 3_600_000 - 3_600_000;
    const calls = t.services.calls;
    await endCall(calls, t.ws.id, { room: 'a', start: H + 5 * MIN, end: H + 15 * MIN, agent: 'Sales', sip: true });
    await endCall(calls, t.ws.id, { room: 'b', start: H + 10 * MIN, end: H + 40 * MIN, agent: 'Support', transfer: true });
    await endCall(calls, t.ws.id, { room: 'c', start: H + 40 * MIN, end: H + 50 * MIN, agent: 'Support' });
    // Another workspace's busy hour: never counted here.
    for (let i = 0; i < 5; i++) await endCall(calls, other.id, { room: `o${i}`, start: H + 11 * MIN, end: H + 14 * MIN });
    // Active since 10 minutes ago: in progress up to now.
    await calls.ingest(
      t.ws.id,
      'live',
      [
        {
          type: 'room_started',
          id: 'live',
          at: t.clock.now - 10 * MIN,
          room: { sid: 'RM_live', name: 'live', createdAt: t.clock.now - 10 * MIN, agentName: 'Sales', customerName: null },
        },
      ],
      'livekit',
    );
  }, 60_000);
  afterAll(() => t.close());

  const stats = async (query: string, ws: TestWorkspace = t.ws) => {
    const res = await t.app.inject({ url: `/v2/api/stats${query}`, headers: ws.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it('counts concurrency exactly, per bucket and in total, with the active call up to now', async () => {
    const s = await stats(`?from=${new Date(H).toISOString()}&to=${H + 2 * 3_600_000}&bucket=1h`);
    expect(s).toMatchObject({ from: new Date(H).toISOString(), to: new Date(H + 2 * 3_600_000).toISOString(), bucket: '1h' });
    expect(s.buckets).toHaveLength(2);
    expect(s.buckets[0]).toMatchObject({
      concurrencyPeak: 2,
      started: 3,
      ended: 3,
      durationP50: 600,
      durationP90: 1800,
      transferRate: 1 / 3,
    });
    expect(s.buckets[0].concurrencyAvg).toBeCloseTo((10 + 30 + 10) / 60);
    // The clock's hour, 20 minutes lived so far: the active call for the last 10 of them.
    expect(s.buckets[1]).toMatchObject({ concurrencyPeak: 1, started: 1, ended: 0, durationP50: null, transferRate: null });
    expect(s.buckets[1].concurrencyAvg).toBeCloseTo(0.5);
    expect(s.totals).toMatchObject({ calls: 4, concurrencyPeak: 2, concurrencyPeakAt: new Date(H + 10 * MIN).toISOString() });
    expect(s.totals.sentiment.positive + s.totals.sentiment.neutral + s.totals.sentiment.negative).toBe(3);
    expect(s.agents.map((a: { agent: string; calls: number }) => [a.agent, a.calls])).toEqual([
      ['Sales', 2],
      ['Support', 2],
    ]);
  });

  it('filters by agent and by type (phone, or sip as the history says)', async () => {
    const range = `?from=${H}&to=${H + 3_600_000}&bucket=5m`;
    expect((await stats(`${range}&agent=Support`)).totals).toMatchObject({ calls: 2, concurrencyPeak: 1 });
    expect((await stats(`${range}&type=phone`)).totals).toMatchObject({ calls: 1 });
    expect((await stats(`${range}&type=sip`)).totals).toMatchObject({ calls: 1 });
    expect((await stats(`${range}&type=web`)).totals).toMatchObject({ calls: 2 });
    expect((await stats(range, other)).totals).toMatchObject({ calls: 5, concurrencyPeak: 5 });
  });

  it('defaults to the last 24 hours in 5-minute buckets, and bounds the range', async () => {
    const s = await stats('');
    expect(s.bucket).toBe('5m');
    expect(s.buckets.length).toBeGreaterThanOrEqual(288);
    expect(s.buckets.length).toBeLessThanOrEqual(289);
    const bad = async (query: string, field: string) => {
      const res = await t.app.inject({ url: `/v2/api/stats${query}`, headers: t.ws.headers });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.field, query).toBe(field);
    };
    await bad(`?from=${H - 30 * 86_400_000}&to=${H}&bucket=1m`, 'querystring.bucket');
    await bad(`?from=${H}&to=${H - 1}`, 'querystring.to');
    await bad('?bucket=2m', 'querystring.bucket');
    await bad('?from=yesterday', 'querystring.from');
    await bad('?agentId=x', 'querystring.agentId');
  });
});
