/* global EventSource, URLSearchParams, setTimeout, clearTimeout */
/**
 * The workspace's live stream (docs/live-stream.md) and what each frame does to the board.
 *
 * Why it works like this:
 *  - EventSource reconnects by itself, but with the same URL, and a stream token may have expired by then
 *    (401 for ever). So on any error the stream is closed and reopened with a fresh token and
 *    `lastEventId`, which lets the server replay what was missed instead of sending everything again.
 *  - A late answer of an older attempt is ignored (`state.gen`), so a sign-out or a reconnect always wins.
 *  - A snapshot is the list, and list items never carry the agent's telemetry; the frames that follow do.
 *    So that a quiet call does not look unmeasured until it speaks, the telemetry of the calls without any
 *    is read once after a snapshot: a few at a time and at most BACKFILL_MAX of them (the rest fill in as
 *    their frames arrive), so a reconnect never floods the server.
 */
import { api, authLost, callPath, isAuthError, newStreamToken } from './api.js';
import { applyAlert, remove, setTelemetry, upsert } from './board.js';
import { applyTurns, loadDetails, markEnded, renderFacts, scheduleInsights } from './details.js';
import { announce, callerName, el } from './dom.js';
import { noteServerTime, state } from './state.js';
import { telemetryOf } from './telemetry.js';

const RECONNECT_MAX_MS = 15_000;
const BACKFILL_MAX = 100;
const BACKFILL_PARALLEL = 4;

async function backfillTelemetry(gen) {
  const queue = [...state.calls.values()].filter((c) => !c.telemetry).slice(0, BACKFILL_MAX);
  // The call as it is now, when it is still the same call and still has no telemetry.
  const stillNeeds = (call) => {
    const current = state.calls.get(call.item.roomName);
    return gen !== state.gen || !current || current.item.id !== call.item.id || current.telemetry ? undefined : current;
  };
  const worker = async () => {
    for (let call = queue.shift(); call; call = queue.shift()) {
      if (gen !== state.gen) return;
      if (!stillNeeds(call)) continue;
      let record;
      try {
        record = await api('GET', callPath(call.item.id));
      } catch (err) {
        if (gen === state.gen && isAuthError(err)) authLost(err);
        if (isAuthError(err) || err.status === 0) return;
        continue;
      }
      const current = stillNeeds(call);
      const telemetry = telemetryOf(record);
      if (current && telemetry) setTelemetry(current, telemetry);
    }
  };
  await Promise.all(Array.from({ length: BACKFILL_PARALLEL }, worker));
}

const frames = {
  snapshot(data) {
    noteServerTime(data.timestamp);
    const fresh = new Set(data.data.map((item) => item.roomName));
    for (const roomName of [...state.calls.keys()]) if (!fresh.has(roomName)) remove(roomName);
    for (const item of data.data) upsert(item, data.timestamp, telemetryOf(item));
    void backfillTelemetry(state.gen);
    const d = state.detail;
    if (d && !d.ended) {
      if (!state.calls.has(d.roomName)) markEnded('The call has ended.');
      // Anything may have happened while disconnected: take the panel from the server again.
      else {
        renderFacts();
        void loadDetails();
        scheduleInsights();
      }
    }
  },
  'call.started'(data) {
    noteServerTime(data.timestamp);
    upsert(data.call, data.timestamp, telemetryOf(data, data.call));
  },
  'call.updated'(data) {
    noteServerTime(data.timestamp);
    upsert(data.call, data.timestamp, telemetryOf(data, data.call));
    const d = state.detail;
    if (!d || d.roomName !== data.call.roomName || d.ended) return;
    renderFacts();
    applyTurns(data.newTurns ?? [], data.changes ?? []);
    if (data.changes?.some((c) => c === 'transcript' || c === 'sentiment' || c === 'transfer')) scheduleInsights();
  },
  'call.ended'(data) {
    noteServerTime(data.timestamp);
    const known = state.calls.has(data.call.roomName);
    remove(data.call.roomName);
    const d = state.detail;
    if (d && d.roomName === data.call.roomName && !d.ended) markEnded(`The call has ended (${data.endReason}).`);
    else if (known) announce(`Call with ${callerName(data.call)} ended.`);
  },
  'call.alert'(data) {
    if (data.timestamp) noteServerTime(data.timestamp);
    const call = applyAlert(data);
    const d = state.detail;
    if (call && d && d.roomName === call.item.roomName && !d.ended) renderFacts();
  },
  overflow() {
    // Too far behind to catch up from the log: the next connection starts from a fresh snapshot.
    state.lastEventId = undefined;
  },
};

export function setConnection(kind) {
  const text = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Not connected' }[kind];
  el.connection.dataset.state = kind;
  el.connectionText.textContent = text;
}

export function closeStream() {
  if (state.es) state.es.close();
  state.es = null;
  clearTimeout(state.retryTimer);
}

function scheduleReconnect() {
  setConnection('reconnecting');
  const delay = Math.min(RECONNECT_MAX_MS, 500 * 2 ** state.retries) * (0.75 + Math.random() / 2);
  state.retries += 1;
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => void connect(), delay);
}

/** Opens the stream; `token` is one just issued (at sign-in), else a fresh one is fetched. */
export async function connect(token) {
  closeStream();
  const gen = ++state.gen;
  if (el.connection.dataset.state !== 'reconnecting') setConnection('connecting');
  try {
    token ??= await newStreamToken();
  } catch (err) {
    if (gen !== state.gen) return;
    if (isAuthError(err)) return authLost(err);
    return scheduleReconnect();
  }
  if (gen !== state.gen) return;
  const query = new URLSearchParams({ token });
  if (state.lastEventId) query.set('lastEventId', state.lastEventId);
  const es = new EventSource(`/v2/api/active-calls/stream?${query}`);
  state.es = es;
  es.addEventListener('open', () => {
    if (state.es !== es) return;
    state.retries = 0;
    setConnection('live');
  });
  es.addEventListener('error', () => {
    if (state.es !== es) return;
    // Never let EventSource retry on its own: it would reuse a token that may have expired.
    closeStream();
    scheduleReconnect();
  });
  for (const [name, apply] of Object.entries(frames)) {
    es.addEventListener(name, (event) => {
      if (state.es !== es) return;
      if (event.lastEventId) state.lastEventId = event.lastEventId;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      apply(data);
    });
  }
}
