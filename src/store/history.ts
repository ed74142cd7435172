/** What every history backend shares. */
import type { Call } from '../domain/call.ts';
import type { HistoryQuery } from './types.ts';

/**
 * Calls longer than this (6 h) have their own small index, so that statistics over a range read only calls
 * that started shortly before it, plus the few long ones. The migrations repeat the number (21600000).
 */
export const LONG_CALL_MS = 21_600_000;

/**
 * `statFlags` (domain/stats.ts) in SQL, for both archives: the sentiment's code plus the transfer bit, as
 * column `flags`. `table`: the alias the columns are read through, if any (`h.`).
 */
export function statFlagsSql(table = ''): string {
  return `(CASE ${table}sentiment WHEN 'positive' THEN 1 WHEN 'negative' THEN 2 ELSE 0 END + CASE WHEN ${table}transfer_requested THEN 4 ELSE 0 END) AS flags`;
}

/** A call read back from the archive, without the bookkeeping fields a backend may keep in its JSON. */
export function archivedCall(state: Call & { transcriptInTurns?: true }): Call {
  delete state.transcriptInTurns;
  return state;
}

/** Filter columns of a query, by name, in a fixed order (so equal queries share prepared statements). */
export function filterColumns(q: HistoryQuery): [column: string, value: string | number | boolean][] {
  const out: [string, string | number | boolean][] = [];
  if (q.agent !== undefined) out.push(['agent', q.agent]);
  if (q.callType !== undefined) out.push(['call_type', q.callType]);
  if (q.sentiment !== undefined) out.push(['sentiment', q.sentiment]);
  if (q.transferRequested !== undefined) out.push(['transfer_requested', q.transferRequested]);
  if (q.endReason !== undefined) out.push(['end_reason', q.endReason]);
  return out;
}
