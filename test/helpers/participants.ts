/** A LiveKit participant as the domain sees it, for tests that fold events by hand. */
import type { ParticipantRef } from '../../src/domain/events.ts';

export function person(identity: string, kind: ParticipantRef['kind'], joinedAt: number, sid = `PA_${identity}`): ParticipantRef {
  return {
    sid,
    identity,
    name: identity,
    kind,
    joinedAt,
    metadata: '',
    attributes: kind === 'sip' ? { 'sip.phoneNumber': '+15551230000' } : {},
  };
}
