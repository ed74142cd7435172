/** /metrics: request durations by route pattern (never a raw room name) and the ingest lag. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { postAgentEvents, postWebhook, room, turn, webhook } from '../helpers/livekit.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('/metrics', () => {
  it('times requests by route pattern and measures ingest lag by source', async () => {
    await postAgentEvents(t.app, 'room-secret-4155551234', [turn('customer', 'hello', t.clock.now - 1500)], { headers: t.ws.headers });
    await t.app.inject({ url: '/v2/api/active-calls', headers: t.ws.headers });
    await t.app.inject({ url: '/v2/api/active-calls/room-secret-4155551234', headers: t.ws.headers });
    await t.app.inject({ url: '/no/such/route' });
    const body = (await t.app.inject({ url: '/metrics' })).body;
    expect(body).toMatch(/livecalls_http_request_duration_seconds_count\{method="GET",route="\/v2\/api\/active-calls",status="200"\} 1/);
    expect(body).toMatch(
      /livecalls_http_request_duration_seconds_count\{method="GET",route="\/v2\/api\/active-calls\/:roomName",status="200"\} 1/,
    );
    expect(body).toMatch(/livecalls_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    expect(body).not.toContain('room-secret-4155551234');
    // The turn was stamped 1.5 s before the clock of its commit.
    expect(body).toMatch(/livecalls_ingest_lag_seconds_bucket\{le="1",source="agent"\} 0/);
    expect(body).toMatch(/livecalls_ingest_lag_seconds_bucket\{le="2.5",source="agent"\} 1/);
  });

  it("answers only its token when LIVECALLS_METRICS_TOKEN is set (its series name every workspace's agents)", async () => {
    const guarded = await createTestApp({ LIVECALLS_METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await guarded.app.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await guarded.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(
        401,
      );
      expect((await guarded.app.inject({ url: '/metrics', headers: guarded.ws.headers })).statusCode).toBe(401);
      const ok = await guarded.app.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('livecalls_http_request_duration_seconds');
    } finally {
      await guarded.close();
    }
  });

  it('counts the calls active now per agent name, across workspaces, from the store', async () => {
    const fresh = await createTestApp();
    try {
      const other = await fresh.newWorkspace('other');
      const start = async (name: string, workspaceId: string, agentName: string) =>
        postWebhook(
          fresh.app,
          webhook('room_started', room({ name, workspaceId, agentName, createdAt: fresh.clock.now }), fresh.clock.now),
        );
      await start('a1', fresh.ws.id, 'Billing Bot');
      await start('a2', other.id, 'Billing Bot');
      await start('a3', other.id, 'Booking Bot');
      const scrape = async () => (await fresh.app.inject({ url: '/metrics' })).body;
      expect(await scrape()).toMatch(/livecalls_active_calls\{agent="Billing Bot"\} 2/);
      expect(await scrape()).toMatch(/livecalls_active_calls\{agent="Booking Bot"\} 1/);
      await postWebhook(
        fresh.app,
        webhook(
          'room_finished',
          room({ name: 'a3', workspaceId: other.id, agentName: 'Booking Bot', createdAt: fresh.clock.now }),
          fresh.clock.now,
        ),
      );
      expect(await scrape()).not.toMatch(/livecalls_active_calls\{agent="Booking Bot"\}/);
    } finally {
      await fresh.close();
    }
  });
});
