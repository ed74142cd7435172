/**
 * What a committed call change becomes as outgoing webhooks: the event types, their payloads (the Standard
 * Webhooks shape `{"type", "timestamp", "data"}`) and their ids.
 *
 * Why ids are derived, not random: the `webhook-id` is the receiver's idempotency key, so it must be the
 * same however often the same news is enqueued. A call starts, ends and first asks for a transfer once, so
 * call id + type names those; its sentiment can change many times, but each change comes with a new turn,
 * so the turn count at the change tells them apart. An alert's firing and its clearing are each news once, so
 * the alert's id (call, rule, episode) and which of the two tell them apart.
 */
import { createHash } from 'node:crypto';
import { callType, startedAt, type Call, type Turn } from '../domain/call.ts';
import type { CallDelta } from '../domain/changes.ts';
import { alertView, telemetryView } from '../domain/telemetry-view.ts';
import { agentName, customerName, customerPhone, durationSeconds, iso, toActiveCallItem } from '../domain/view.ts';
import type { WebhookEventType, WebhookMessage } from '../store/types.ts';

export const WEBHOOK_EVENT_TYPES = [
  'call.started',
  'call.ended',
  'call.transfer_requested',
  'call.sentiment_changed',
  'call.alert',
] as const satisfies readonly WebhookEventType[];

/** The webhook events a change is news for, in the order they happened (one `call.alert` per alert change). */
export function eventTypesOf(delta: CallDelta): WebhookEventType[] {
  return newsOf(delta).map((n) => n.type);
}

/**
 * The news of a change, each with the delta its message is built from: a `call.alert` gets a delta whose
 * `alertChanges` is that one alert.
 */
export function newsOf(delta: CallDelta): { type: WebhookEventType; delta: CallDelta }[] {
  const news: { type: WebhookEventType; delta: CallDelta }[] = [];
  if (delta.started) news.push({ type: 'call.started', delta });
  if (delta.transferRequested) news.push({ type: 'call.transfer_requested', delta });
  if (delta.sentimentChanged) news.push({ type: 'call.sentiment_changed', delta });
  for (const alert of delta.alertChanges ?? []) news.push({ type: 'call.alert', delta: { ...delta, alertChanges: [alert] } });
  if (delta.ended) news.push({ type: 'call.ended', delta });
  return news;
}

export function webhookId(workspaceId: string, callId: string, type: WebhookEventType, discriminator = ''): string {
  const digest = createHash('sha256').update(`${workspaceId}\n${callId}\n${type}\n${discriminator}`).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

function callFields(call: Call, delta: CallDelta) {
  return {
    ...telemetryView(call, delta.prices),
    callId: call.id,
    roomName: call.roomName,
    type: callType(call),
    aiAgentName: agentName(call),
    customerName: customerName(call),
    customerPhone: customerPhone(call),
    startedAt: iso(startedAt(call)),
  };
}

/**
 * The message for one event of a change. `transcript` is the call's full transcript, needed by
 * `call.ended` only (the call itself keeps just its latest turns).
 */
export function buildMessage(type: WebhookEventType, delta: CallDelta, now: number, transcript: readonly Turn[] = []): WebhookMessage {
  const { call } = delta;
  let data: Record<string, unknown>;
  let id: string;
  switch (type) {
    case 'call.started':
      data = callFields(call, delta);
      id = webhookId(call.workspaceId, call.id, type);
      break;
    case 'call.ended':
      data = {
        ...callFields(call, delta),
        endedAt: call.endedAt === null ? null : iso(call.endedAt),
        endReason: call.endReason,
        duration: durationSeconds(call, now),
        sentiment: call.sentiment,
        sentimentScore: call.sentimentScore,
        transferRequested: call.transfer !== null,
        transcript: transcript.map((t) => ({ role: t.role, content: t.content, createdAt: iso(t.at) })),
      };
      id = webhookId(call.workspaceId, call.id, type);
      break;
    case 'call.transfer_requested':
      data = { ...callFields(call, delta), reason: call.transfer?.value ?? '', requestedAt: iso(call.transfer?.at ?? now) };
      id = webhookId(call.workspaceId, call.id, type);
      break;
    case 'call.sentiment_changed':
      data = {
        ...callFields(call, delta),
        from: delta.sentimentChanged?.from ?? call.sentiment,
        to: delta.sentimentChanged?.to ?? call.sentiment,
        score: call.sentimentScore,
      };
      id = webhookId(call.workspaceId, call.id, type, String(call.turnCount));
      break;
    case 'call.alert': {
      const alert = delta.alertChanges?.[0];
      // The contract's shape: the alert and the call's list item, as the stream's call.alert frame has them.
      data = {
        callId: call.id,
        roomName: call.roomName,
        alert: alert ? alertView(alert) : null,
        item: toActiveCallItem(call, now),
      };
      id = webhookId(call.workspaceId, call.id, type, alert ? `${alert.id}:${alert.clearedAt === null ? 'fired' : 'cleared'}` : '');
      break;
    }
  }
  return { id, workspaceId: call.workspaceId, type, payload: JSON.stringify({ type, timestamp: iso(now), data }) };
}
