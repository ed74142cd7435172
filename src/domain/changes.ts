/**
 * What a committed batch changed in a call, as the outside world cares about it: the live stream says
 * "started / updated (these aspects) / ended", outgoing webhooks say "started / ended / transfer requested /
 * sentiment changed". Both read it from here, so they never disagree about what happened.
 *
 * Why it compares states rather than events: a batch may hold duplicates, out-of-order deliveries and
 * events that change nothing (a repeated participant_joined); only the before/after difference is news.
 * A call that was already ended is never news again (late events enrich the archive quietly).
 */
import type { AlertRecord } from './alerts.ts';
import { isActive, startedAt, type Call, type Sentiment, type Turn } from './call.ts';
import type { Prices } from './telemetry-view.ts';

export type ChangeAspect =
  'transcript' | 'sentiment' | 'participants' | 'transfer' | 'customer' | 'agent' | 'takeover' | 'timing' | 'telemetry' | 'alerts';

export interface CallDelta {
  /** The call as it is now. */
  call: Call;
  /** The call is new with this batch. */
  started: boolean;
  /** The call ended with this batch. */
  ended: boolean;
  /** What changed, for a call that was active before and after (empty otherwise). */
  aspects: ChangeAspect[];
  /** Turns that were not in the call's live transcript before, oldest first. */
  newTurns: Turn[];
  /** The first transfer request arrived with this batch. */
  transferRequested: boolean;
  /** The sentiment label moved (a new call starts at its own label, which is not a change). */
  sentimentChanged: { from: Sentiment; to: Sentiment } | null;
  /** Alerts that fired or cleared with this batch, as they are now (a call's first batch included). */
  alertChanges?: AlertRecord[];
  /** The workspace's prices when the change was described: for the usage's estimated cost. */
  prices?: Prices | null;
}

/** Alerts whose firing or clearing is news: not in `before`, or cleared since. */
function alertChangesOf(before: Call | undefined, after: Call): AlertRecord[] {
  if (!after.alerts || after.alerts === before?.alerts) return [];
  const prior = new Map(before?.alerts?.list.map((a) => [a.id, a]));
  return after.alerts.list.filter((a) => {
    const was = prior.get(a.id);
    return !was || was.clearedAt !== a.clearedAt;
  });
}

function sameParticipants(a: Call, b: Call): boolean {
  if (a.participants.length !== b.participants.length) return false;
  return a.participants.every((p, i) => {
    const q = b.participants[i];
    return q !== undefined && p.sid === q.sid && p.left === q.left && p.identity === q.identity && p.kind === q.kind;
  });
}

function stampChanged(a: { id: string } | null | undefined, b: { id: string } | null | undefined): boolean {
  return (a?.id ?? null) !== (b?.id ?? null);
}

/** The news in one call's change; `undefined` when nothing the outside world sees changed. */
export function describeChange(before: Call | undefined, after: Call): CallDelta | undefined {
  const wasActive = before !== undefined && isActive(before);
  const started = before === undefined;
  const ended = (started || wasActive) && !isActive(after);
  if (!started && !wasActive) return undefined;

  const known = new Set(before?.transcript.map((t) => t.id));
  const newTurns = after.transcript.filter((t) => !known.has(t.id));
  const transferRequested = after.transfer !== null && (before?.transfer ?? null) === null;
  const sentimentChanged = before && before.sentiment !== after.sentiment ? { from: before.sentiment, to: after.sentiment } : null;
  const alertChanges = alertChangesOf(before, after);

  const aspects: ChangeAspect[] = [];
  if (before && isActive(after)) {
    if (newTurns.length > 0 || before.turnCount !== after.turnCount) aspects.push('transcript');
    if (sentimentChanged || before.sentimentScore !== after.sentimentScore) aspects.push('sentiment');
    if (!sameParticipants(before, after)) aspects.push('participants');
    if (stampChanged(before.transfer, after.transfer) || stampChanged(before.transferResult, after.transferResult))
      aspects.push('transfer');
    if (
      stampChanged(before.customerName, after.customerName) ||
      stampChanged(before.customerPhone, after.customerPhone) ||
      stampChanged(before.roomCustomerName, after.roomCustomerName)
    )
      aspects.push('customer');
    if (stampChanged(before.agentName, after.agentName)) aspects.push('agent');
    if (stampChanged(before.humanTakeover, after.humanTakeover)) aspects.push('takeover');
    if (startedAt(before) !== startedAt(after)) aspects.push('timing');
    if (before.telemetry !== after.telemetry) aspects.push('telemetry');
    if (alertChanges.length > 0) aspects.push('alerts');
    if (aspects.length === 0) return undefined; // only the activity clock moved: not news
  }
  return { call: after, started, ended, aspects, newTurns, transferRequested, sentimentChanged, alertChanges };
}
