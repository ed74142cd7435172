/** An alert's firing and clearing as news: one `call.alert` webhook and stream frame each, with stable ids. */
import { describe, expect, it } from 'vitest';
import { clear, fire } from '../../../src/domain/alerts.ts';
import { applyEvent, newCall, type Call } from '../../../src/domain/call.ts';
import { describeChange } from '../../../src/domain/changes.ts';
import { framesOf } from '../../../src/live/frames.ts';
import { buildMessage, eventTypesOf, newsOf } from '../../../src/webhooks/events.ts';

const T0 = Date.UTC(2026, 0, 1);
const ID = '0123456789abcdef01234567';

function withAlerts(call: Call, alerts: Call['alerts']): Call {
  return { ...call, alerts };
}

describe('alert news', () => {
  const base = applyEvent(newCall(ID, 'ws_a', 'room-1', T0), { type: 'agent_state', id: 's', at: T0, state: 'listening' }, T0);
  const one = fire(
    ID,
    undefined,
    { ruleId: 'quiet', kind: 'dead_air', message: 'Customer waiting for more than 10 s', episode: 1 },
    T0 + 10_000,
  );
  const two = fire(ID, one, { ruleId: 'err', kind: 'agent_error', message: '1 agent error', episode: 1 }, T0 + 10_000);
  const fired = withAlerts(base, two);

  it('each alert that fires is one call.alert webhook, with an id that names the episode and whether it cleared', () => {
    const delta = describeChange(base, fired);
    expect(delta?.aspects).toContain('alerts');
    expect(eventTypesOf(delta!)).toEqual(['call.alert', 'call.alert']);
    const [a, b] = newsOf(delta!).map((n) => buildMessage(n.type, n.delta, T0 + 10_000));
    expect(a!.id).not.toBe(b!.id);
    const payload = JSON.parse(a!.payload);
    expect(payload).toMatchObject({
      type: 'call.alert',
      data: {
        callId: ID,
        roomName: 'room-1',
        alert: { id: `al_${ID}_quiet_1`, ruleId: 'quiet', kind: 'dead_air', firedAt: new Date(T0 + 10_000).toISOString(), clearedAt: null },
        item: { id: ID, roomName: 'room-1', status: 'active' },
      },
    });
    // The same news enqueued again has the same id; its clearing is other news.
    expect(buildMessage('call.alert', newsOf(delta!)[0]!.delta, T0 + 99_000).id).toBe(a!.id);
    const cleared = withAlerts(fired, clear(two, 'quiet', T0 + 12_000));
    const clearing = describeChange(fired, cleared);
    expect(eventTypesOf(clearing!)).toEqual(['call.alert']);
    const c = buildMessage('call.alert', newsOf(clearing!)[0]!.delta, T0 + 12_000);
    expect(c.id).not.toBe(a!.id);
    expect(JSON.parse(c.payload).data.alert.clearedAt).toBe(new Date(T0 + 12_000).toISOString());
  });

  it('the stream says each change once as a call.alert frame, beside the call.updated frame with the alerts', () => {
    const frames = framesOf(describeChange(base, fired)!, T0 + 10_000);
    expect(frames.map((f) => f.event)).toEqual(['call.updated', 'call.alert', 'call.alert']);
    const updated = JSON.parse(frames[0]!.data);
    expect(updated.alerts).toHaveLength(2);
    expect(Object.keys(updated.call)).not.toContain('alerts');
    expect(JSON.parse(frames[1]!.data)).toMatchObject({ callId: ID, alert: { ruleId: 'quiet' }, item: { id: ID } });
    // Nothing new about alerts: no call.alert frame.
    const later = applyEvent(fired, { type: 'agent_state', id: 's2', at: T0 + 11_000, state: 'speaking' }, T0 + 11_000);
    expect(framesOf(describeChange(fired, later)!, T0 + 11_000).map((f) => f.event)).toEqual(['call.updated']);
  });
});
