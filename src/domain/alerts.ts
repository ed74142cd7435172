/**
 * Alerts recorded on a call: what fired, when, and whether it cleared.
 *
 * Why episodes: an alert fires once per condition and clears when the condition stops holding; if it holds
 * again later that is a new episode, a new alert. The alert's id is derived from the call, the rule and the
 * episode number, so however many instances evaluate the same call, the same episode is recorded once (the
 * periodic evaluator's event carries that id as its idempotency key, see `alertEventId`).
 */

export interface AlertRecord {
  id: string;
  ruleId: string;
  kind: string;
  message: string;
  /** epoch ms */
  firedAt: number;
  clearedAt: number | null;
  episode: number;
}

export interface CallAlerts {
  /** Oldest first; open alerts are always kept, cleared ones only the newest (see `MAX_ALERTS`). */
  list: AlertRecord[];
  /** Episodes started so far, per rule id. */
  episodes: Record<string, number>;
}

/** Alerts kept on a call. */
export const MAX_ALERTS = 20;

export function emptyAlerts(): CallAlerts {
  return { list: [], episodes: {} };
}

export function alertId(callId: string, ruleId: string, episode: number): string {
  return `al_${callId}_${ruleId}_${episode}`;
}

/** The idempotency key of the event that fires episode `episode` of `ruleId` on a call. */
export function alertEventId(callId: string, ruleId: string, episode: number): string {
  return `alert:${callId}:${ruleId}:${episode}`;
}

export function openAlert(alerts: CallAlerts | undefined, ruleId: string): AlertRecord | undefined {
  return alerts?.list.find((a) => a.ruleId === ruleId && a.clearedAt === null);
}

/** The next episode number of a rule on this call. */
export function nextEpisode(alerts: CallAlerts | undefined, ruleId: string): number {
  return (alerts?.episodes[ruleId] ?? 0) + 1;
}

function trim(list: AlertRecord[]): AlertRecord[] {
  let excess = list.length - MAX_ALERTS;
  if (excess <= 0) return list;
  return list.filter((a) => !(a.clearedAt !== null && excess-- > 0));
}

/**
 * Fires episode `episode` of a rule. Nothing happens when the rule already has an open alert, or when this
 * episode is not the next one (an evaluator's event for an episode that already came and went).
 */
export function fire(
  callId: string,
  alerts: CallAlerts | undefined,
  alert: { ruleId: string; kind: string; message: string; episode: number },
  at: number,
): CallAlerts {
  const current = alerts ?? emptyAlerts();
  if (openAlert(current, alert.ruleId) || alert.episode !== nextEpisode(current, alert.ruleId)) return current;
  const record: AlertRecord = { id: alertId(callId, alert.ruleId, alert.episode), ...alert, firedAt: at, clearedAt: null };
  return { list: trim([...current.list, record]), episodes: { ...current.episodes, [alert.ruleId]: alert.episode } };
}

export function clear(alerts: CallAlerts, ruleId: string, at: number): CallAlerts {
  const open = openAlert(alerts, ruleId);
  if (!open) return alerts;
  return { ...alerts, list: alerts.list.map((a) => (a === open ? { ...a, clearedAt: Math.max(at, a.firedAt) } : a)) };
}
