/**
 * Property: LiveKit may repeat and reorder events, and the agent worker races LiveKit. Whatever the order
 * and duplication, the same set of events converges to one call state (through the real store + fold).
 */
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CallEvent, RoomRef } from '../../../src/domain/events.ts';
import { telemetryView } from '../../../src/domain/telemetry-view.ts';
import { toActiveCallDetails, toActiveCallItem } from '../../../src/domain/view.ts';
import { createEmbeddedStores } from '../../../src/store/embedded/index.ts';
import { tempDir } from '../../helpers/app.ts';
import { serviceFor } from '../../helpers/service.ts';
import { person } from '../../helpers/participants.ts';

const T0 = Date.UTC(2026, 0, 1);
const WS = 'ws_prop';
const ROOM: RoomRef = { sid: 'RM_prop', name: 'call-prop', createdAt: T0, agentName: 'Prop Agent', customerName: null };

/** One realistic call's events: webhooks with the room sid, agent events without. */
const callEvents = fc
  .record({
    turns: fc.array(
      fc.tuple(
        fc.constantFrom('agent', 'customer') as fc.Arbitrary<'agent' | 'customer'>,
        fc.constantFrom('I am not happy at all', 'Great, thanks so much!', 'Can you check my bill?', 'Okay.', 'This is terrible service'),
      ),
      { maxLength: 8 },
    ),
    sip: fc.boolean(),
    callerLeaves: fc.boolean(),
    // LiveKit's leave may not know the join time (the mapper then uses the event's own time).
    leaveKnowsJoin: fc.boolean(),
    // A second SIP participant (a transfer target) joins later: the call's customerPhone must stay the caller's.
    secondSip: fc.boolean(),
    rejoin: fc.boolean(),
    transfer: fc.boolean(),
    info: fc.boolean(),
    finished: fc.boolean(),
    // Supervisor actions: a takeover, possibly given back later, and a transfer's outcome.
    takeover: fc.constantFrom('none', 'muted', 'muted-then-restored'),
    transferResult: fc.constantFrom('none', 'accepted', 'failed-then-accepted'),
    // The agent's telemetry: states, cumulative usage (an older total may arrive last), errors, tools, a close.
    telemetry: fc.boolean(),
    closed: fc.boolean(),
  })
  .map((s) => {
    const ev: CallEvent[] = [{ type: 'room_started', id: 'lk:EV_start', at: T0, room: ROOM }];
    ev.push({
      type: 'participant_joined',
      id: 'lk:EV_j_agent',
      at: T0 + 1000,
      room: ROOM,
      participant: person('agent-1', 'agent', T0 + 1000),
    });
    const caller = person(s.sip ? 'sip_+15551230000' : 'web-user', s.sip ? 'sip' : 'standard', T0 + 2000);
    const joined = { ...caller, attributes: { ...caller.attributes, 'sip.callStatus': 'active' } };
    ev.push({ type: 'participant_joined', id: 'lk:EV_j_caller', at: T0 + 2000, room: ROOM, participant: joined });
    if (s.secondSip) {
      const target = { ...person('sip_+15559990000', 'sip', T0 + 10_000), attributes: { 'sip.phoneNumber': '+15559990000' } };
      ev.push({ type: 'participant_joined', id: 'lk:EV_j_target', at: T0 + 10_000, room: ROOM, participant: target });
    }
    s.turns.forEach(([role, content], i) =>
      ev.push({
        type: 'transcript',
        id: `agent:call-prop:t${i}`,
        at: T0 + 3000 + i * 1000,
        role,
        content,
        ...(s.telemetry && role === 'agent'
          ? { interrupted: i % 3 === 0, metrics: { e2eMs: 700 + ((i * 379) % 900), llmTtftMs: 200 + i } }
          : {}),
        ...(s.telemetry && role === 'customer' ? { metrics: { endOfTurnDelayMs: 300 + i } } : {}),
      }),
    );
    if (s.telemetry) {
      const at = (k: number) => T0 + 3500 + k * 700;
      ev.push({ type: 'agent_state', id: 'agent:call-prop:as1', at: at(1), state: 'thinking' });
      ev.push({ type: 'agent_state', id: 'agent:call-prop:as2', at: at(2), state: 'speaking' });
      ev.push({ type: 'customer_state', id: 'agent:call-prop:cs1', at: at(1), state: 'speaking' });
      ev.push({ type: 'customer_state', id: 'agent:call-prop:cs2', at: at(3), state: 'listening' });
      ev.push({ type: 'usage', id: 'agent:call-prop:u1', at: at(2), usage: { llmPromptTokens: 100, ttsCharacters: 40 } });
      ev.push({
        type: 'usage',
        id: 'agent:call-prop:u2',
        at: at(4),
        usage: { llmPromptTokens: 250, llmCompletionTokens: 60, sttSeconds: 12.5 },
      });
      ev.push({ type: 'agent_error', id: 'agent:call-prop:e1', at: at(3), source: 'tts', message: 'timeout', recoverable: true });
      ev.push({ type: 'false_interruption', id: 'agent:call-prop:fi', at: at(3), resumed: true });
      ev.push({
        type: 'tools_executed',
        id: 'agent:call-prop:tl',
        at: at(2),
        tools: [
          { name: 'lookup', ok: true, durationMs: 40, error: null },
          { name: 'book', ok: false, durationMs: null, error: 'no slots' },
        ],
      });
    }
    if (s.closed) ev.push({ type: 'session_closed', id: 'agent:call-prop:closed', at: T0 + 25_000, reason: 'participant_disconnected' });
    if (s.transfer) ev.push({ type: 'transfer_requested', id: 'agent:call-prop:tr', at: T0 + 4500, reason: 'asked for a human' });
    if (s.info) ev.push({ type: 'customer_info', id: 'agent:call-prop:ci', at: T0 + 2500, name: 'Pat', phone: null });
    if (s.callerLeaves) {
      // Its own object, as LiveKit sends it: the leave's view of the attributes, and maybe no join time.
      const leaving = {
        ...caller,
        joinedAt: s.leaveKnowsJoin ? caller.joinedAt : T0 + 20_000,
        attributes: { ...caller.attributes, 'sip.callStatus': 'hangup' },
      };
      ev.push({ type: 'participant_left', id: 'lk:EV_l_caller', at: T0 + 20_000, room: ROOM, participant: leaving });
    }
    if (s.rejoin) {
      const again = person(caller.identity, caller.kind, T0 + 21_000, 'PA_again');
      ev.push({ type: 'participant_joined', id: 'lk:EV_j_again', at: T0 + 21_000, room: ROOM, participant: again });
    }
    if (s.takeover !== 'none') ev.push({ type: 'agent_muted', id: 'api:agent_muted:1', at: T0 + 6000, identity: 'agent-1' });
    if (s.takeover === 'muted-then-restored')
      ev.push({ type: 'agent_unmuted', id: 'api:agent_unmuted:1', at: T0 + 7000, identity: 'agent-1' });
    if (s.transferResult === 'failed-then-accepted')
      ev.push({
        type: 'transfer_result',
        id: 'api:transfer:1',
        at: T0 + 8000,
        to: 'tel:+15550001111',
        outcome: 'failed',
        reason: '486 Busy Here',
      });
    if (s.transferResult !== 'none')
      ev.push({ type: 'transfer_result', id: 'api:transfer:2', at: T0 + 9000, to: 'tel:+15550002222', outcome: 'accepted', reason: null });
    if (s.finished) ev.push({ type: 'room_finished', id: 'lk:EV_fin', at: T0 + 30_000, room: ROOM });
    return ev;
  });

/** Deliveries: every event at least once (retries duplicate some), in any order. */
const deliveries = callEvents.chain((events) =>
  fc
    .tuple(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.subarray(events))
    .chain(([all, dups]) =>
      fc.shuffledSubarray([...all, ...dups], { minLength: all.length + dups.length, maxLength: all.length + dups.length }),
    )
    .map((order) => ({ events, order })),
);

async function fold(order: readonly CallEvent[], batch: number): Promise<unknown> {
  const dir = tempDir('livecalls-prop-');
  const stores = createEmbeddedStores(dir);
  try {
    const service = serviceFor(stores, T0 + 60_000);
    for (let i = 0; i < order.length; i += batch) await service.ingest(WS, 'call-prop', order.slice(i, i + batch), 'livekit');
    const now = T0 + 40_000;
    const active = await stores.calls.getActive(WS, 'call-prop');
    const call = active ?? (await stores.calls.latestEnded(WS, 'call-prop'));
    if (!call) throw new Error('no call');
    const transcript = await stores.calls.transcript(WS, call.id);
    const { id: _id, ...details } = toActiveCallDetails(call, transcript, now);
    const { id: _id2, ...item } = toActiveCallItem(call, now);
    return {
      active: Boolean(active),
      endedAt: call.endedAt,
      endReason: call.endReason,
      details,
      item,
      turnCount: call.turnCount,
      sentiment: call.sentimentScore,
      humanTakeover: call.humanTakeover?.value ?? false,
      transferResult: call.transferResult?.value ?? null,
      telemetry: telemetryView(call, { currency: 'USD', llmPromptPer1k: 0.5 }),
    };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('out-of-order and duplicate delivery', () => {
  it('converges to the state of in-order delivery, whatever the order and batching', async () => {
    await fc.assert(
      fc.asyncProperty(deliveries, fc.integer({ min: 1, max: 4 }), async ({ events, order }, batch) => {
        const expected = await fold(events, 1);
        const actual = await fold(order, batch);
        expect(actual).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('the in-order state is what the events say', async () => {
    const r = await fold(
      [
        { type: 'room_started', id: 'lk:a', at: T0, room: ROOM },
        { type: 'participant_joined', id: 'lk:b', at: T0 + 1000, room: ROOM, participant: person('sip_1', 'sip', T0 + 1000) },
        { type: 'transcript', id: 'agent:call-prop:x', at: T0 + 2000, role: 'customer', content: 'This is awful, I am furious' },
      ],
      1,
    );
    expect(r).toMatchObject({ active: true, item: { type: 'phone', sentiment: 'negative', customerPhone: '+15551230000', duration: 40 } });
  });
});
