/* global document, queueMicrotask */
/**
 * The list of live calls and the counts above it.
 *
 * Why it works like this:
 *  - Every frame carries the whole call, so a frame is applied by replacing the call: a repeat is harmless.
 *  - Rendering is batched into one microtask, so a snapshot of many calls draws once.
 *  - Rows are kept and moved, never rebuilt, so the keyboard focus stays where it was.
 *  - A call with an active alert is highlighted and put on top like a caller who asked for a human, and
 *    each alert is announced once.
 *  - Durations tick here, once a second, from `timestamp - duration`: frames arrive only when a call
 *    changes, and a quiet call must still look alive.
 */
import { agentLabel, announce, callerName, el, formatDuration, icon, label, make, sentimentBadge, transferBadge } from './dom.js';
import { durationOf, state } from './state.js';
import {
  activeAlerts,
  agentLatency,
  alertBadge,
  alertKindLabel,
  renderAgentLatency,
  rowLatency,
  stateChip,
  withAlert,
} from './telemetry.js';

const SENTIMENTS = ['positive', 'neutral', 'negative'];
const TYPES = ['phone', 'web'];

let openHandler = () => {};

/** Registers what a click on a call's row does (open its details). */
export function onRowOpen(handler) {
  openHandler = handler;
}

/**
 * Takes in a call as a frame carries it. `telemetry` is the agent telemetry beside it, when the frame has
 * any; without it the call keeps what it had (a new call in the same room starts without).
 */
export function upsert(item, timestamp, telemetry) {
  const at = Date.parse(timestamp);
  const prev = state.calls.get(item.roomName);
  const same = prev && prev.item.id === item.id;
  // `duration` is whole seconds, so each frame bounds the start from above; the earliest bound is the best.
  const start = same ? Math.min(prev.start, at - item.duration * 1000) : at - item.duration * 1000;
  const call = {
    item,
    start,
    telemetry: telemetry ?? (same ? prev.telemetry : undefined),
    /** bumped whenever a frame brings telemetry, so a slower details answer never overwrites it */
    telemetrySeq: (same ? prev.telemetrySeq : 0) + (telemetry ? 1 : 0),
  };
  state.calls.set(item.roomName, call);
  if (item.transferRequested && !state.announced.has(item.roomName)) {
    state.announced.add(item.roomName);
    announce(`Transfer requested: ${callerName(item)} wants a human (agent ${agentLabel(item.aiAgentName)}).`, true);
  }
  if (!item.transferRequested) state.announced.delete(item.roomName);
  announceAlerts(call);
  scheduleRender();
  return call;
}

/** Takes in one `call.alert` frame: the call as it is now, with that alert fired or cleared. */
export function applyAlert(data) {
  const prev = state.calls.get(data.roomName ?? data.item?.roomName);
  const sameCall = prev && (!data.item || prev.item.id === data.item.id);
  const telemetry = withAlert(sameCall ? prev.telemetry : undefined, data.alert);
  if (data.item) return upsert(data.item, data.timestamp ?? new Date().toISOString(), telemetry);
  if (!prev) return undefined;
  setTelemetry(prev, telemetry);
  return prev;
}

/** Gives a call the telemetry read for it (or brought by an alert), newer than what it had. */
export function setTelemetry(call, telemetry) {
  call.telemetry = telemetry;
  call.telemetrySeq += 1;
  announceAlerts(call);
  scheduleRender();
}

function announceAlerts(call) {
  for (const alert of activeAlerts(call.telemetry)) {
    if (state.announcedAlerts.has(alert.id)) continue;
    state.announcedAlerts.add(alert.id);
    announce(
      `Alert, ${alertKindLabel(alert.kind)}: ${callerName(call.item)} (agent ${agentLabel(call.item.aiAgentName)}). ${alert.message}`,
      true,
    );
  }
}

export function remove(roomName) {
  for (const alert of state.calls.get(roomName)?.telemetry?.alerts ?? []) state.announcedAlerts.delete(alert.id);
  state.calls.delete(roomName);
  state.announced.delete(roomName);
  scheduleRender();
}

export function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  queueMicrotask(() => {
    state.renderQueued = false;
    render();
  });
}

const needsAttention = (call) => call.item.transferRequested || activeAlerts(call.telemetry).length > 0;

/** Callers waiting for a human and calls with an active alert first, then the oldest call first (the API's order). */
function ordered() {
  return [...state.calls.values()].sort(
    (a, b) => Number(needsAttention(b)) - Number(needsAttention(a)) || a.start - b.start || a.item.roomName.localeCompare(b.item.roomName),
  );
}

function createRow(roomName) {
  const li = make('li', 'call');
  li.dataset.room = roomName;
  const button = make('button', 'call-row');
  button.type = 'button';
  button.setAttribute('aria-controls', 'details');
  button.addEventListener('click', () => openHandler(roomName));
  const who = make('span', 'call-who');
  const name = make('span', 'call-name');
  const sub = make('span', 'call-sub');
  who.append(name, sub);
  const meta = make('span', 'call-meta');
  const agent = make('span', 'call-agent');
  const type = make('span', 'call-type');
  meta.append(agent, type);
  const live = make('span', 'call-live');
  const agentState = stateChip(null);
  const latency = make('span', 'call-latency');
  live.append(agentState, latency);
  const status = make('span', 'call-status');
  const sentiment = sentimentBadge('neutral');
  const transfer = transferBadge();
  const alerts = make('span', 'call-alerts');
  status.append(sentiment, transfer, alerts);
  const duration = make('span', 'call-duration');
  const durationValue = make('span', 'call-duration-value');
  duration.append(make('span', 'visually-hidden', 'Duration '), durationValue);
  const last = make('span', 'call-last');
  button.append(who, meta, live, status, duration, last);
  li.append(button);
  return {
    li,
    button,
    name,
    sub,
    agent,
    type,
    live,
    agentState,
    latency,
    status,
    sentiment,
    transfer,
    alerts,
    alertKey: '',
    durationValue,
    last,
  };
}

function updateRow(row, call) {
  const { item } = call;
  row.li.dataset.transfer = String(item.transferRequested);
  row.li.dataset.sentiment = item.sentiment;
  row.name.textContent = callerName(item);
  row.sub.textContent = item.customerName && item.customerPhone ? item.customerPhone : item.roomName;
  row.agent.textContent = agentLabel(item.aiAgentName);
  row.type.textContent = item.type === 'phone' ? 'Phone' : 'Web';
  if (row.sentiment.dataset.sentiment !== item.sentiment) {
    const badge = sentimentBadge(item.sentiment);
    row.sentiment.replaceWith(badge);
    row.sentiment = badge;
  }
  row.transfer.hidden = !item.transferRequested;
  const telemetry = call.telemetry;
  const alerts = activeAlerts(telemetry);
  row.li.dataset.alert = String(alerts.length > 0);
  const alertKey = alerts.map((a) => a.id).join(' ');
  if (row.alertKey !== alertKey) {
    row.alerts.replaceChildren(...alerts.map(alertBadge));
    row.alertKey = alertKey;
  }
  const agentState = telemetry?.agentState ?? null;
  if (row.agentState.dataset.state !== (agentState ?? 'unknown')) {
    const chip = stateChip(agentState);
    row.agentState.replaceWith(chip);
    row.agentState = chip;
  }
  // An agent that has reported neither a state nor a measured turn shows nothing rather than blanks.
  row.live.hidden = !telemetry?.agentState && !telemetry?.latency?.turns;
  const latency = rowLatency(telemetry);
  row.latency.textContent = latency ? `Reply ${latency}` : 'No latency yet';
  row.last.textContent = item.lastMessage ? `“${item.lastMessage}”` : 'No messages yet';
  row.durationValue.textContent = formatDuration(durationOf(call));
  const selected = state.detail?.roomName === item.roomName;
  if (selected) row.button.setAttribute('aria-current', 'true');
  else row.button.removeAttribute('aria-current');
}

export function render() {
  const list = ordered();
  const focused = document.activeElement;
  for (const [roomName, row] of state.rows) {
    if (!state.calls.has(roomName)) {
      row.li.remove();
      state.rows.delete(roomName);
    }
  }
  list.forEach((call, index) => {
    let row = state.rows.get(call.item.roomName);
    if (!row) {
      row = createRow(call.item.roomName);
      state.rows.set(call.item.roomName, row);
    }
    updateRow(row, call);
    if (el.calls.children[index] !== row.li) el.calls.insertBefore(row.li, el.calls.children[index] ?? null);
  });
  // Moving a row must not take the keyboard focus away from it.
  if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus({ preventScroll: true });
  el.callsEmpty.hidden = list.length > 0;
  renderCounts(list);
}

function fillCounts(dl, entries) {
  dl.replaceChildren();
  for (const [name, count, key] of entries) {
    const row = make('div', 'count-row');
    if (key) row.dataset.key = key;
    row.append(make('dt', '', name), make('dd', '', String(count)));
    dl.append(row);
  }
}

function renderCounts(list) {
  el.countTotal.textContent = String(list.length);
  const waiting = list.filter((c) => c.item.transferRequested).length;
  el.countTransfer.hidden = waiting === 0;
  el.countTransfer.replaceChildren(icon('alert'), make('span', '', `${waiting} ${waiting === 1 ? 'wants' : 'want'} a human`));
  const alerting = list.filter((c) => activeAlerts(c.telemetry).length > 0).length;
  el.countAlerts.hidden = alerting === 0;
  el.countAlerts.replaceChildren(icon('alert'), make('span', '', `${alerting} ${alerting === 1 ? 'call' : 'calls'} with an alert`));
  document.title =
    waiting > 0
      ? `(${waiting}) Transfer requested · livecalls`
      : alerting > 0
        ? `(${alerting}) Alert · livecalls`
        : `livecalls · ${list.length} active`;
  renderAgentLatency(el.agentLatency, agentLatency(list, agentLabel));
  el.agentLatencyEmpty.hidden = list.length > 0;

  const agents = new Map();
  for (const { item } of list) agents.set(agentLabel(item.aiAgentName), (agents.get(agentLabel(item.aiAgentName)) ?? 0) + 1);
  const byAgent = [...agents].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  fillCounts(el.countAgent, byAgent.length > 0 ? byAgent : [['None', 0]]);
  fillCounts(
    el.countType,
    TYPES.map((t) => [label(t), list.filter((c) => c.item.type === t).length, t]),
  );
  fillCounts(
    el.countSentiment,
    SENTIMENTS.map((s) => [label(s), list.filter((c) => c.item.sentiment === s).length, s]),
  );
}

/** Once a second: every row's duration. */
export function tickRows() {
  for (const [roomName, row] of state.rows) {
    const call = state.calls.get(roomName);
    if (call) row.durationValue.textContent = formatDuration(durationOf(call));
  }
}
