/**
 * Property: a room name reused by several LiveKit rooms, one after another, each with its own sid. The
 * webhooks carry the sid; the agent worker's turns carry it as an (unproven) claim, numbered "turn-1",
 * "turn-2" in every call. Some rooms' `room_finished` is lost. Whatever the delivery order, duplication and
 * batching, every room ends up as its own call, with its own turns, ended as in-order delivery ends it
 * (LiveKit's `room_finished` when it came, else at its last event); run on the embedded store and on Redis.
 */
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../../src/domain/call.ts';
import type { CallEvent, RoomRef } from '../../../src/domain/events.ts';
import { createEmbeddedStores } from '../../../src/store/embedded/index.ts';
import type { Stores } from '../../../src/store/types.ts';
import { tempDir } from '../../helpers/app.ts';
import { redisReachable, storesOnPlaces } from '../../helpers/backends.ts';
import { person } from '../../helpers/participants.ts';
import { serviceFor } from '../../helpers/service.ts';

const T0 = Date.UTC(2026, 0, 1);
const NAME = 'support-line';
const ROOM_GAP = 100_000;

interface RoomPlan {
  turns: number;
  finished: boolean;
  caller: boolean;
}

function roomEvents(i: number, plan: RoomPlan): CallEvent[] {
  const start = T0 + i * ROOM_GAP;
  const room: RoomRef = { sid: `RM_${i}`, name: NAME, createdAt: start, agentName: `Agent ${i}`, customerName: null };
  // As the agent bridge sends it: signed with the worker's LiveKit key pair, not (yet) LiveKit's word.
  const claim = { sid: room.sid, proven: false, signed: true };
  const ev: CallEvent[] = [{ type: 'room_started', id: `lk:EV_s${i}`, at: start, room }];
  ev.push({
    type: 'participant_joined',
    id: `lk:EV_a${i}`,
    at: start + 500,
    room,
    participant: person(`agent-${i}`, 'agent', start + 500),
  });
  if (plan.caller) {
    ev.push({ type: 'participant_joined', id: `lk:EV_c${i}`, at: start + 900, room, participant: person(`sip_${i}`, 'sip', start + 900) });
  }
  for (let t = 1; t <= plan.turns; t++) {
    // The same client ids in every call: the worker numbers its turns per call.
    const role = t % 2 ? 'agent' : 'customer';
    ev.push({
      type: 'transcript',
      id: `agent:${NAME}:turn-${t}`,
      at: start + 1000 * t,
      role,
      content: `room ${i} turn ${t}`,
      roomSidClaim: claim,
    });
  }
  ev.push({ type: 'customer_info', id: `agent:${NAME}:info`, at: start + 1500, name: `Caller ${i}`, phone: null, roomSidClaim: claim });
  if (plan.finished) ev.push({ type: 'room_finished', id: `lk:EV_f${i}`, at: start + 60_000, room });
  return ev;
}

const scenario = fc
  .array(fc.record({ turns: fc.integer({ min: 0, max: 4 }), finished: fc.boolean(), caller: fc.boolean() }), { minLength: 2, maxLength: 3 })
  .chain((plans) => {
    const events = plans.flatMap((plan, i) => roomEvents(i, plan));
    return fc
      .tuple(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.subarray(events))
      .chain(([all, dups]) =>
        fc.shuffledSubarray([...all, ...dups], { minLength: all.length + dups.length, maxLength: all.length + dups.length }),
      )
      .map((order) => ({ plans, events, order }));
  });

/** Every call the deliveries made, by its room sid, without the parts that are ids or server time. */
async function deliver(open: () => Promise<{ stores: Stores; close(): Promise<void> }>, order: readonly CallEvent[], batch: number) {
  const { stores, close } = await open();
  try {
    const service = serviceFor(stores, T0 + 10 * ROOM_GAP);
    const calls = new Map<string, Call>();
    for (let i = 0; i < order.length; i += batch) {
      const result = await service.ingest('ws_reuse', NAME, order.slice(i, i + batch), 'livekit');
      for (const { after } of result.changes) calls.set(after.id, after);
    }
    const out: Record<string, unknown> = {};
    for (const call of calls.values()) {
      const transcript = await stores.calls.transcript('ws_reuse', call.id);
      const key = call.roomSid || call.claimedRoomSid || call.id;
      expect(out[key], `two calls for room ${key}`).toBeUndefined();
      out[key] = {
        roomSid: call.roomSid,
        active: call.endedAt === null,
        endedAt: call.endedAt,
        endReason: call.endReason,
        start: call.roomCreatedAt,
        agent: call.agentName?.value ?? null,
        customer: call.customerName?.value ?? null,
        participants: call.participants.map((p) => p.identity),
        turns: transcript.map((t) => t.content),
        turnCount: call.turnCount,
      };
    }
    return out;
  } finally {
    await close();
  }
}

function embedded() {
  return async () => {
    const dir = tempDir('livecalls-reuse-');
    const stores = createEmbeddedStores(dir);
    return {
      stores,
      async close() {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

describe('a reused room name, delivered in any order', () => {
  let useRedis = false;
  beforeAll(async () => {
    useRedis = await redisReachable();
  });

  it('in order: each room is its own call with its own turns; a room whose room_finished was lost ends at its last event', async () => {
    const plans = [
      { turns: 2, finished: false, caller: true },
      { turns: 3, finished: true, caller: true },
    ];
    const events = plans.flatMap((plan, i) => roomEvents(i, plan));
    const r = await deliver(embedded(), events, 1);
    expect(r.RM_0).toMatchObject({
      endedAt: T0 + 2000,
      endReason: 'superseded',
      turns: ['room 0 turn 1', 'room 0 turn 2'],
      customer: 'Caller 0',
    });
    expect(r.RM_1).toMatchObject({ endedAt: T0 + ROOM_GAP + 60_000, endReason: 'room_finished', turnCount: 3, customer: 'Caller 1' });
  });

  it('a late webhook of an older room never ends the live call of a newer one', async () => {
    const newer = roomEvents(1, { turns: 2, finished: false, caller: true });
    const older = roomEvents(0, { turns: 1, finished: true, caller: true });
    const r = await deliver(embedded(), [...newer, ...older], 1);
    expect(r.RM_1).toMatchObject({ active: true, endReason: null, turns: ['room 1 turn 1', 'room 1 turn 2'] });
    expect(r.RM_0).toMatchObject({ active: false, endReason: 'room_finished', endedAt: T0 + 60_000, turns: ['room 0 turn 1'] });
  });

  for (const backend of ['embedded', 'redis'] as const) {
    it(`converges to in-order delivery, whatever the order, duplicates and batching (${backend})`, async (ctx) => {
      if (backend === 'redis' && !useRedis) return ctx.skip();
      const places = storesOnPlaces(true, false, 'lcreuse');
      const open =
        backend === 'embedded'
          ? embedded()
          : async () => {
              const id = places.newPlace();
              const stores = await places.open(id);
              return {
                stores,
                async close() {
                  await stores.close();
                  await places.dispose(id);
                },
              };
            };
      await fc.assert(
        fc.asyncProperty(scenario, fc.integer({ min: 1, max: 4 }), async ({ events, order }, batch) => {
          const expected = await deliver(open, events, 1);
          const actual = await deliver(open, order, batch);
          expect(actual).toEqual(expected);
        }),
        { numRuns: backend === 'embedded' ? 60 : 25, seed: 20261201 },
      );
    });
  }

  for (const backend of ['embedded', 'redis'] as const) {
    it(`a worker's claim leads only within its room name, and an API-key claim never ends a call LiveKit bound (${backend})`, async (ctx) => {
      if (backend === 'redis' && !useRedis) return ctx.skip();
      const places = storesOnPlaces(true, false, 'lcclaim');
      const id = places.newPlace();
      const stores = backend === 'embedded' ? undefined : await places.open(id);
      const open = backend === 'embedded' ? await embedded()() : { stores: stores!, close: async () => undefined };
      try {
        const service = serviceFor(open.stores, T0 + 60_000);
        const unsigned = { sid: 'RM_x', proven: false };
        // A claim of room x's sid, sent for room z.
        await service.ingest(
          'ws_c',
          'z',
          [{ type: 'transcript', id: 'agent:z:t1', at: T0, role: 'customer', content: 'hi', roomSidClaim: unsigned }],
          'agent',
        );
        const x: RoomRef = { sid: 'RM_x', name: 'x', createdAt: T0, agentName: null, customerName: null };
        await service.ingest('ws_c', 'x', [{ type: 'room_started', id: 'lk:EV_x', at: T0, room: x }], 'livekit');
        const z = await open.stores.calls.getActive('ws_c', 'z');
        const xCall = await open.stores.calls.getActive('ws_c', 'x');
        expect(z).toMatchObject({ roomName: 'z', roomSid: '', claimedRoomSid: 'RM_x' });
        expect(xCall).toMatchObject({ roomName: 'x', roomSid: 'RM_x' });
        // An API-key claim of another sid on room x's bound call: the call stays, and gets the turn.
        const made = { sid: 'RM_made_up', proven: false };
        await service.ingest(
          'ws_c',
          'x',
          [{ type: 'transcript', id: 'agent:x:t9', at: T0 + 5_000, role: 'agent', content: 'still here', roomSidClaim: made }],
          'agent',
        );
        const after = await open.stores.calls.getActive('ws_c', 'x');
        expect(after).toMatchObject({ id: xCall?.id, roomSid: 'RM_x', endedAt: null, turnCount: 1 });
      } finally {
        await open.close();
        if (stores) await stores.close();
        await places.dispose(id);
      }
    });
  }
});
