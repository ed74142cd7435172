/** What counts as news about a call: the stream and outgoing webhooks both read it from describeChange. */
import { describe, expect, it } from 'vitest';
import { applyEvent, newCall, type Call } from '../../../src/domain/call.ts';
import { describeChange } from '../../../src/domain/changes.ts';
import type { CallEvent } from '../../../src/domain/events.ts';

const T = Date.UTC(2026, 10, 24, 10);
const say = (id: string, content: string, at = T): CallEvent => ({ type: 'transcript', id, at, role: 'customer', content });
const fold = (call: Call, ...events: CallEvent[]) => events.reduce((c, e) => applyEvent(c, e, T), call);

describe('describeChange', () => {
  const fresh = newCall('c1', 'ws', 'room', T);

  it('a new call is started, not updated; one that starts and ends in a batch is both started and ended', () => {
    const first = fold(fresh, say('t1', 'hello'));
    expect(describeChange(undefined, first)).toMatchObject({ started: true, ended: false, aspects: [], newTurns: [{ id: 't1' }] });
    const over = fold(first, { type: 'call_ended', id: 'e', at: T + 1, reason: 'stale' });
    expect(describeChange(undefined, over)).toMatchObject({ started: true, ended: true });
  });

  it('names what changed on an active call, and is silent when only the activity clock moved', () => {
    const before = fold(fresh, say('t1', 'hello'));
    const after = fold(before, say('t2', 'I want a human'), { type: 'transfer_requested', id: 'x', at: T, reason: 'human' });
    const delta = describeChange(before, after);
    expect(delta?.aspects).toEqual(expect.arrayContaining(['transcript', 'transfer']));
    expect(delta?.transferRequested).toBe(true);
    expect(delta?.newTurns.map((t) => t.id)).toEqual(['t2']);
    expect(describeChange(after, { ...after, lastActivityAt: after.lastActivityAt + 5_000 })).toBeUndefined();
    // A second transfer request is not a new "transfer requested".
    const again = fold(after, { type: 'transfer_requested', id: 'y', at: T + 1, reason: 'still human' });
    expect(describeChange(after, again)?.transferRequested).toBe(false);
  });

  it('reports a sentiment move with its direction', () => {
    const before = fold(fresh, say('t1', 'hello'));
    const after = { ...before, sentiment: 'negative' as const, sentimentScore: -0.8 };
    expect(describeChange(before, after)?.sentimentChanged).toEqual({ from: before.sentiment, to: 'negative' });
  });

  it('an ended call is never news again, even when a late turn enriches it', () => {
    const ended = fold(fresh, say('t1', 'hello'), { type: 'call_ended', id: 'e', at: T + 1, reason: 'stale' });
    expect(describeChange(ended, fold(ended, say('t9', 'late', T + 2)))).toBeUndefined();
  });
});
