/**
 * The webhook store contract (endpoints, outbox, delivery log): every backend that can hold the outbox runs
 * this same suite. Claims are leases: one holder at a time, retaken only after the lease runs out on the
 * store's own clock. Due times are on the caller's clock (`now`), so they are tested at T0 (2026); leases run
 * on real time, so a lease that must run out is short and the test waits past it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptOutcome, Stores, WebhookEndpoint, WebhookEventType, WebhookMessage } from '../../src/store/types.ts';
import type { Backend } from './stores.contract.ts';

const T0 = Date.UTC(2026, 5, 1, 12);
const LEASE = 30_000;
/** A lease the test outlives by waiting `SHORT_LEASE_WAIT`: a holder that vanished. */
const SHORT_LEASE = 200;
const SHORT_LEASE_WAIT = SHORT_LEASE + 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let seq = 0;
function endpoint(workspaceId: string, events: WebhookEventType[], createdAt = T0): WebhookEndpoint {
  seq += 1;
  return {
    id: `ep_${seq.toString(16).padStart(16, '0')}`,
    workspaceId,
    url: `https://example.com/hook/${seq}`,
    events,
    description: seq % 2 === 0 ? null : `endpoint ${seq}`,
    secret: `whsec_${Buffer.from(`secret-${seq}`).toString('base64')}`,
    createdAt,
  };
}

function message(workspaceId: string, id: string, type: WebhookEventType = 'call.started'): WebhookMessage {
  return { id, workspaceId, type, payload: JSON.stringify({ type, timestamp: new Date(T0).toISOString(), data: { id } }) };
}

function outcome(attempt: number, at: number, over: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { attempt, at, responseStatus: 200, error: null, durationMs: 12, status: 'delivered', nextAttemptAt: null, ...over };
}

export function webhookStoreContract(name: string, backend: Backend): void {
  describe(`webhook store contract: ${name}`, () => {
    const opened: { stores: Stores; place: string }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.stores.close();
        await backend.dispose(o.place);
      }
    });

    async function open(place = backend.newPlace()) {
      const stores = await backend.open(place);
      opened.push({ stores, place });
      return { stores, hooks: stores.webhooks, place };
    }

    it('keeps endpoints per workspace: another workspace neither lists, reads nor deletes them', async () => {
      const { hooks } = await open();
      const a1 = endpoint('wsA', ['call.started', 'call.ended']);
      const a2 = endpoint('wsA', ['call.sentiment_changed'], T0 + 1);
      const b1 = endpoint('wsB', ['call.ended']);
      for (const e of [a2, a1, b1]) await hooks.createEndpoint(e);
      expect(await hooks.listEndpoints('wsA')).toEqual([a1, a2]);
      expect(await hooks.listEndpoints('wsB')).toEqual([b1]);
      expect(await hooks.getEndpoint('wsA', a1.id)).toEqual(a1);
      expect(await hooks.getEndpoint('wsB', a1.id)).toBeUndefined();
      expect(await hooks.deleteEndpoint('wsB', a1.id)).toBe(false);
      expect(await hooks.getEndpoint('wsA', a1.id)).toEqual(a1);
      expect(await hooks.deleteEndpoint('wsA', a1.id)).toBe(true);
      expect(await hooks.deleteEndpoint('wsA', a1.id)).toBe(false);
      expect(await hooks.listEndpoints('wsA')).toEqual([a2]);
    });

    it("fans a message out to its own workspace's subscribed endpoints only, once per message id", async () => {
      const { hooks } = await open();
      const started = endpoint('wsA', ['call.started']);
      const ended = endpoint('wsA', ['call.ended']);
      const other = endpoint('wsB', ['call.started']);
      for (const e of [started, ended, other]) await hooks.createEndpoint(e);
      expect(await hooks.enqueue(message('wsA', 'msg_1'), T0)).toBe(1);
      expect(await hooks.enqueue(message('wsA', 'msg_1'), T0 + 5)).toBe(0);
      // An endpoint added later does not receive a repeated old message either.
      const late = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(late);
      expect(await hooks.enqueue(message('wsA', 'msg_1'), T0 + 9)).toBe(0);
      expect(await hooks.enqueue(message('wsA', 'msg_none', 'call.transfer_requested'), T0)).toBe(0);

      const claimed = await hooks.claim('h1', T0, LEASE, 10);
      expect(claimed).toEqual([
        {
          endpointId: started.id,
          workspaceId: 'wsA',
          eventId: 'msg_1',
          eventType: 'call.started',
          url: started.url,
          secret: started.secret,
          payload: message('wsA', 'msg_1').payload,
          attempts: 0,
        },
      ]);
      expect(await hooks.listDeliveries('wsA', ended.id, 10)).toEqual([]);
      expect(await hooks.listDeliveries('wsB', other.id, 10)).toEqual([]);
      expect(await hooks.listDeliveries('wsA', late.id, 10)).toEqual([]);
    });

    it('claims due deliveries oldest first, up to the limit, each for one holder while its lease lasts', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      await hooks.enqueue(message('wsA', 'msg_b'), T0 + 2);
      await hooks.enqueue(message('wsA', 'msg_a'), T0 + 1);
      await hooks.enqueue(message('wsA', 'msg_future'), T0 + 10_000);

      expect((await hooks.claim('h1', T0, LEASE, 10)).map((c) => c.eventId)).toEqual([]);
      expect((await hooks.claim('h1', T0 + 5, LEASE, 1)).map((c) => c.eventId)).toEqual(['msg_a']);
      expect((await hooks.claim('h2', T0 + 5, LEASE, 10)).map((c) => c.eventId)).toEqual(['msg_b']);
      // Held: nobody gets them again within the lease, not even with the future one now due.
      expect((await hooks.claim('h3', T0 + 10_000, LEASE, 10)).map((c) => c.eventId)).toEqual(['msg_future']);
      // Only the holder records the attempt, once; another name is refused.
      expect(await hooks.recordAttempt('h2', e.id, 'msg_a', outcome(1, T0 + 6))).toBe(false);
      expect(await hooks.recordAttempt('h1', e.id, 'msg_a', outcome(1, T0 + 6))).toBe(true);
      expect(await hooks.recordAttempt('h1', e.id, 'msg_a', outcome(1, T0 + 7))).toBe(false);
      const [a] = (await hooks.listDeliveries('wsA', e.id, 10)).filter((d) => d.eventId === 'msg_a');
      expect(a).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: T0 + 6 });
      expect(a?.history).toHaveLength(1);
    });

    it("a claimer whose clock runs ahead by more than the lease still cannot take another holder's delivery", async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      await hooks.enqueue(message('wsA', 'msg_held'), T0);
      expect((await hooks.claim('h1', T0, LEASE, 10)).map((c) => c.eventId)).toEqual(['msg_held']);
      // Instances whose clocks say a day later, a year later: the lease runs on the store's clock.
      expect(await hooks.claim('ahead', T0 + 24 * 3_600_000, LEASE, 10)).toEqual([]);
      expect(await hooks.claim('far-ahead', T0 + 365 * 24 * 3_600_000, LEASE, 10)).toEqual([]);
      expect(await hooks.recordAttempt('h1', e.id, 'msg_held', outcome(1, T0 + 50))).toBe(true);
    });

    it('a holder that vanished loses its claim once its lease ran out on the store clock; its late record is refused', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      await hooks.enqueue(message('wsA', 'msg_a'), T0);
      expect((await hooks.claim('gone', T0, SHORT_LEASE, 10)).map((c) => c.eventId)).toEqual(['msg_a']);
      await sleep(SHORT_LEASE_WAIT);
      // The same caller time as the first claim: only the store's clock moved.
      const retaken = await hooks.claim('h2', T0, LEASE, 10);
      expect(retaken.map((c) => [c.eventId, c.attempts])).toEqual([['msg_a', 0]]);
      expect(await hooks.recordAttempt('gone', e.id, 'msg_a', outcome(1, T0 + 6))).toBe(false);
      expect(await hooks.recordAttempt('h2', e.id, 'msg_a', outcome(1, T0 + 7))).toBe(true);
      const [a] = await hooks.listDeliveries('wsA', e.id, 10);
      expect(a).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: T0 + 7 });
      expect(a?.history).toHaveLength(1);
    });

    it('records retries with their next due time, then the delivery, and every attempt in the log', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.ended']);
      await hooks.createEndpoint(e);
      await hooks.enqueue(message('wsA', 'msg_r', 'call.ended'), T0);

      expect(await hooks.claim('h1', T0, LEASE, 5)).toHaveLength(1);
      const retry = outcome(1, T0 + 100, {
        responseStatus: 500,
        error: 'endpoint answered HTTP 500',
        status: 'pending',
        nextAttemptAt: T0 + 5_100,
      });
      expect(await hooks.recordAttempt('h1', e.id, 'msg_r', retry)).toBe(true);
      // Released, but not due until its next attempt time.
      expect(await hooks.claim('h2', T0 + 5_099, LEASE, 5)).toEqual([]);
      const again = await hooks.claim('h2', T0 + 5_100, LEASE, 5);
      expect(again.map((c) => c.attempts)).toEqual([1]);
      const timeout = outcome(2, T0 + 5_200, {
        responseStatus: null,
        error: 'no response within 10000 ms',
        durationMs: 10_000,
        status: 'pending',
        nextAttemptAt: T0 + 30_000,
      });
      expect(await hooks.recordAttempt('h2', e.id, 'msg_r', timeout)).toBe(true);
      let [d] = await hooks.listDeliveries('wsA', e.id, 10);
      expect(d).toMatchObject({
        eventId: 'msg_r',
        eventType: 'call.ended',
        workspaceId: 'wsA',
        endpointId: e.id,
        status: 'pending',
        attempts: 2,
        nextAttemptAt: T0 + 30_000,
        lastResponseStatus: null,
        lastError: 'no response within 10000 ms',
        createdAt: T0,
        updatedAt: T0 + 5_200,
        deliveredAt: null,
      });
      expect(await hooks.claim('h1', T0 + 30_000, LEASE, 5)).toHaveLength(1);
      expect(await hooks.recordAttempt('h1', e.id, 'msg_r', outcome(3, T0 + 30_050, { responseStatus: 204 }))).toBe(true);
      [d] = await hooks.listDeliveries('wsA', e.id, 10);
      expect(d).toMatchObject({ status: 'delivered', attempts: 3, nextAttemptAt: null, lastResponseStatus: 204, lastError: null });
      expect(d?.deliveredAt).toBe(T0 + 30_050);
      expect(d?.history).toEqual([
        { attempt: 1, at: T0 + 100, responseStatus: 500, error: 'endpoint answered HTTP 500', durationMs: 12 },
        { attempt: 2, at: T0 + 5_200, responseStatus: null, error: 'no response within 10000 ms', durationMs: 10_000 },
        { attempt: 3, at: T0 + 30_050, responseStatus: 204, error: null, durationMs: 12 },
      ]);
      expect(await hooks.claim('h1', T0 + 10_000_000, LEASE, 5)).toEqual([]);
    });

    it('a failed delivery is never claimed again; the log lists newest first, up to the limit', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      for (let i = 0; i < 5; i++) await hooks.enqueue(message('wsA', `msg_${i}`), T0 + i * 10);
      await hooks.claim('h1', T0 + 100, LEASE, 1);
      const failed = outcome(1, T0 + 101, { responseStatus: 410, error: 'endpoint answered HTTP 410', status: 'failed' });
      expect(await hooks.recordAttempt('h1', e.id, 'msg_0', failed)).toBe(true);
      expect((await hooks.claim('h2', T0 + 1_000_000, LEASE, 10)).map((c) => c.eventId)).toEqual(['msg_1', 'msg_2', 'msg_3', 'msg_4']);
      const log = await hooks.listDeliveries('wsA', e.id, 3);
      expect(log.map((d) => d.eventId)).toEqual(['msg_4', 'msg_3', 'msg_2']);
      const all = await hooks.listDeliveries('wsA', e.id, 100);
      expect(all.at(-1)).toMatchObject({ eventId: 'msg_0', status: 'failed', nextAttemptAt: null, lastResponseStatus: 410 });
    });

    it('concurrent claims never hand the same delivery to two holders', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      for (let i = 0; i < 40; i++) await hooks.enqueue(message('wsA', `msg_${i}`), T0);
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => hooks.claim(`h${i}`, T0, LEASE, 7)));
      const ids = claims.flat().map((c) => c.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(40);
    });

    it("holds at most perWorkspace of one workspace's deliveries at once, so another workspace's go out meanwhile", async () => {
      const { hooks } = await open();
      const slow = [endpoint('wsA', ['call.started']), endpoint('wsA', ['call.started'])];
      const other = endpoint('wsB', ['call.started']);
      for (const e of [...slow, other]) await hooks.createEndpoint(e);
      // A's backlog is due first: 2 endpoints x 30 messages.
      for (let i = 0; i < 30; i++) await hooks.enqueue(message('wsA', `a_${i}`), T0);
      await hooks.enqueue(message('wsB', 'b_0'), T0 + 1);
      // B's delivery is due after all 60 of A's, and goes in the same claim as A's first three.
      const first = await hooks.claim('h1', T0 + 1, LEASE, 8, 3);
      expect(first.filter((c) => c.workspaceId === 'wsA')).toHaveLength(3);
      expect(first.filter((c) => c.workspaceId === 'wsB').map((c) => c.eventId)).toEqual(['b_0']);
      // A is at its cap: another holder's claim takes none of A's.
      expect(await hooks.claim('h2', T0 + 1, LEASE, 8, 3)).toEqual([]);
      await hooks.enqueue(message('wsB', 'b_1'), T0 + 2);
      expect((await hooks.claim('h2', T0 + 2, LEASE, 8, 3)).map((c) => c.eventId)).toEqual(['b_1']);
      const [done] = first;
      await hooks.recordAttempt('h1', done!.endpointId, done!.eventId, outcome(1, T0 + 3, { status: 'delivered', responseStatus: 200 }));
      const next = await hooks.claim('h2', T0 + 3, LEASE, 8, 3);
      expect(next.map((c) => c.workspaceId)).toEqual(['wsA']);
      // No cap named: the oldest due, whoever's.
      expect(await hooks.claim('h3', T0 + 3, LEASE, 5)).toHaveLength(5);
    });

    it('removing an endpoint removes its outbox rows and log', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      const keep = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      await hooks.createEndpoint(keep);
      await hooks.enqueue(message('wsA', 'msg_x'), T0);
      await hooks.claim('h1', T0, LEASE, 1);
      await hooks.recordAttempt('h1', e.id, 'msg_x', outcome(1, T0, { status: 'pending', responseStatus: 500, nextAttemptAt: T0 + 1 }));
      expect(await hooks.deleteEndpoint('wsA', e.id)).toBe(true);
      expect(await hooks.listDeliveries('wsA', e.id, 10)).toEqual([]);
      expect((await hooks.claim('h2', T0 + LEASE, LEASE, 10)).map((c) => c.endpointId)).toEqual([keep.id]);
    });

    it('prunes finished deliveries older than the cut-off, never pending ones', async () => {
      const { hooks } = await open();
      const e = endpoint('wsA', ['call.started']);
      await hooks.createEndpoint(e);
      for (const id of ['msg_old', 'msg_new', 'msg_pending']) await hooks.enqueue(message('wsA', id), T0);
      await hooks.claim('h1', T0, LEASE, 2);
      await hooks.recordAttempt('h1', e.id, 'msg_old', outcome(1, T0 + 10));
      await hooks.recordAttempt('h1', e.id, 'msg_new', outcome(1, T0 + 1_000));
      expect(await hooks.prune(T0 + 500)).toBe(1);
      expect((await hooks.listDeliveries('wsA', e.id, 10)).map((d) => d.eventId).sort()).toEqual(['msg_new', 'msg_pending']);
      // The message is gone with its last delivery: enqueuing it again is new.
      expect(await hooks.enqueue(message('wsA', 'msg_old'), T0 + 2_000)).toBe(1);
    });

    it('keeps the outbox across a reopen; a claim left by a dead process is retaken after its lease', async () => {
      const first = await open();
      const e = endpoint('wsA', ['call.started']);
      await first.hooks.createEndpoint(e);
      await first.hooks.enqueue(message('wsA', 'msg_wait'), T0);
      await first.hooks.enqueue(message('wsA', 'msg_held'), T0 + 1);
      expect((await first.hooks.claim('dead', T0 + 1, SHORT_LEASE, 1)).map((c) => c.eventId)).toEqual(['msg_wait']);
      await first.stores.close();
      opened.splice(0);
      const second = await open(first.place);
      expect(await second.hooks.getEndpoint('wsA', e.id)).toEqual(e);
      await sleep(SHORT_LEASE_WAIT);
      const retaken = await second.hooks.claim('alive', T0 + 2, LEASE, 10);
      expect(retaken.map((c) => [c.eventId, c.payload])).toEqual([
        ['msg_wait', message('wsA', 'msg_wait').payload],
        ['msg_held', message('wsA', 'msg_held').payload],
      ]);
    });
  });
}
