/** Ended calls for call-history tests, made through the real ingest path (so the history is filled as in production). */
import type { CallService } from '../../src/calls/service.ts';
import type { CallEvent } from '../../src/domain/events.ts';

export interface EndedCallSpec {
  room: string;
  start: number;
  end: number;
  agent?: string;
  customerName?: string;
  phone?: string;
  /** A SIP participant: the call is a phone call (callType sip). */
  sip?: boolean;
  turns?: string[];
  transfer?: boolean;
  reason?: 'room_finished' | 'ended_by_api' | 'stale';
}

export function endedCallEvents(s: EndedCallSpec): CallEvent[] {
  const room = { sid: `RM_${s.room}`, name: s.room, createdAt: s.start, agentName: s.agent ?? 'Agent', customerName: null };
  const events: CallEvent[] = [{ type: 'room_started', id: `${s.room}:start`, at: s.start, room }];
  if (s.sip) {
    events.push({
      type: 'participant_joined',
      id: `${s.room}:sip`,
      at: s.start,
      room,
      participant: {
        sid: `PA_${s.room}`,
        identity: 'caller',
        name: 'caller',
        kind: 'sip',
        joinedAt: s.start,
        metadata: '',
        attributes: {},
      },
    });
  }
  if (s.customerName || s.phone) {
    events.push({ type: 'customer_info', id: `${s.room}:info`, at: s.start + 1, name: s.customerName ?? null, phone: s.phone ?? null });
  }
  (s.turns ?? []).forEach((content, i) =>
    events.push({ type: 'transcript', id: `${s.room}:t${i}`, at: s.start + 2 + i, role: i % 2 ? 'agent' : 'customer', content }),
  );
  if (s.transfer) events.push({ type: 'transfer_requested', id: `${s.room}:xfer`, at: s.start + 50, reason: 'wants a human' });
  events.push({ type: 'call_ended', id: `${s.room}:end`, at: s.end, reason: s.reason ?? 'room_finished' });
  return events;
}

export async function endCall(service: CallService, workspaceId: string, s: EndedCallSpec): Promise<void> {
  await service.ingest(workspaceId, s.room, endedCallEvents(s), 'api');
}
