/**
 * What the board knows, in one place: the signed-in workspace, the live calls, the stream's position and
 * the open details panel. Every module reads and writes this one object; nothing else holds state.
 */

export const state = {
  /** @type {{apiKey: string, workspaceId: string} | null} */
  creds: null,
  /** roomName -> { item, start, telemetry } with `start` in server time (epoch ms), `telemetry` the agent's (or undefined) */
  calls: new Map(),
  /** server clock minus this browser's clock, ms */
  skew: 0,
  skewKnown: false,
  lastEventId: undefined,
  /** @type {EventSource | null} */
  es: null,
  /** bumped on every (re)connect and sign-out, so a late answer of an older attempt is ignored */
  gen: 0,
  retries: 0,
  retryTimer: undefined,
  /** roomName -> row elements */
  rows: new Map(),
  /** rooms whose transfer request has been announced */
  announced: new Set(),
  /** ids of the alerts already announced */
  announcedAlerts: new Set(),
  renderQueued: false,
  /** the open details panel, or null */
  detail: null,
};

export const serverNow = () => Date.now() + state.skew;
export const durationOf = (call) => (serverNow() - call.start) / 1000;

export function noteServerTime(timestamp) {
  const skew = Date.parse(timestamp) - Date.now();
  if (!Number.isFinite(skew)) return;
  // Network delay moves this by a few ms per frame; only a real clock difference is worth a jump.
  if (!state.skewKnown || Math.abs(skew - state.skew) > 2_000) {
    state.skew = skew;
    state.skewKnown = true;
  }
}
