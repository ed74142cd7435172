/** What goes over HTTP besides the events: Retry-After, and the plain form of a turn for a livecalls without telemetry. */
import type { LivecallsEvent } from './events.ts';

export function hasTurnExtras(e: LivecallsEvent): boolean {
  return e.type === 'transcript' && (e.interrupted !== undefined || e.metrics !== undefined);
}

/** A transcript turn as a livecalls without telemetry takes it. */
export function plainTurn(e: LivecallsEvent): LivecallsEvent {
  if (e.type !== 'transcript') return e;
  const { interrupted: _i, metrics: _m, ...rest } = e;
  return rest;
}

/** Retry-After: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
