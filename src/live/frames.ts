/**
 * What the live stream says about a committed change. Every frame carries the call's full list item, so a
 * client that applies a frame twice, or applies a frame its snapshot already reflects, ends up right.
 * The agent's telemetry (state, latency, usage, alerts...) travels beside the item, never inside it: the
 * item keeps the reference's shape.
 */
import type { CallDelta } from '../domain/changes.ts';
import { alertView, telemetryView } from '../domain/telemetry-view.ts';
import { iso, sentimentDetail, toActiveCallItem } from '../domain/view.ts';

export type StreamEvent = 'snapshot' | 'call.started' | 'call.updated' | 'call.ended' | 'call.alert' | 'overflow';

export interface Frame {
  event: StreamEvent;
  /** JSON */
  data: string;
}

/** The frames for one committed change (a call that starts and ends in one batch gives both). */
export function framesOf(delta: CallDelta, now: number): Frame[] {
  const timestamp = iso(now);
  const call = toActiveCallItem(delta.call, now);
  const telemetry = telemetryView(delta.call, delta.prices);
  const frames: Frame[] = [];
  if (delta.started) frames.push({ event: 'call.started', data: JSON.stringify({ call, ...telemetry, timestamp }) });
  if (!delta.started && !delta.ended && delta.aspects.length > 0) {
    const newTurns = delta.newTurns.map((t) => ({ role: t.role, content: t.content, at: iso(t.at) }));
    // The list item keeps the reference's shape; the sentiment's score, trend and signals travel beside it.
    const sentiment = sentimentDetail(delta.call);
    frames.push({
      event: 'call.updated',
      data: JSON.stringify({ call, ...sentiment, ...telemetry, changes: delta.aspects, newTurns, timestamp }),
    });
  }
  for (const alert of delta.alertChanges ?? []) {
    const data = { callId: delta.call.id, roomName: delta.call.roomName, alert: alertView(alert), item: call, timestamp };
    frames.push({ event: 'call.alert', data: JSON.stringify(data) });
  }
  if (delta.ended) {
    const endedAt = iso(delta.call.endedAt ?? now);
    // The list item's shape, saying what the call now is: ended (its duration stops at the end).
    const ended = { ...call, status: 'ended' as const };
    frames.push({
      event: 'call.ended',
      data: JSON.stringify({ call: ended, ...telemetry, endedAt, endReason: delta.call.endReason ?? 'unknown', timestamp }),
    });
  }
  return frames;
}
