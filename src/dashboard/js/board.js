/* global document, queueMicrotask */
/**
 * The list of live calls and the counts above it.
 *
 * Why it works like this:
 *  - Every frame carries the whole call, so a frame is applied by replacing the call: a repeat is harmless.
 *  - Rendering is batched into one microtask, so a snapshot of many calls draws once.
 *  - Rows are kept and moved, never rebuilt, so the keyboard focus stays where it was.
 *  - Durations tick here, once a second, from `timestamp - duration`: frames arrive only when a call
 *    changes, and a quiet call must still look alive.
 */
import { agentLabel, announce, callerName, el, formatDuration, icon, label, make, sentimentBadge, transferBadge } from './dom.js';
import { durationOf, state } from './state.js';

const SENTIMENTS = ['positive', 'neutral', 'negative'];
const TYPES = ['phone', 'web'];

let openHandler = () => {};

/** Registers what a click on a call's row does (open its details). */
export function onRowOpen(handler) {
  openHandler = handler;
}

export function upsert(item, timestamp) {
  const at = Date.parse(timestamp);
  const prev = state.calls.get(item.roomName);
  // `duration` is whole seconds, so each frame bounds the start from above; the earliest bound is the best.
  const start = prev && prev.item.id === item.id ? Math.min(prev.start, at - item.duration * 1000) : at - item.duration * 1000;
  state.calls.set(item.roomName, { item, start });
  if (item.transferRequested && !state.announced.has(item.roomName)) {
    state.announced.add(item.roomName);
    announce(`Transfer requested: ${callerName(item)} wants a human (agent ${agentLabel(item.aiAgentName)}).`, true);
  }
  if (!item.transferRequested) state.announced.delete(item.roomName);
  scheduleRender();
}

export function remove(roomName) {
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

/** Callers waiting for a human first, then the oldest call first (the API's order). */
function ordered() {
  return [...state.calls.values()].sort(
    (a, b) =>
      Number(b.item.transferRequested) - Number(a.item.transferRequested) ||
      a.start - b.start ||
      a.item.roomName.localeCompare(b.item.roomName),
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
  const status = make('span', 'call-status');
  const sentiment = sentimentBadge('neutral');
  const transfer = transferBadge();
  status.append(sentiment, transfer);
  const duration = make('span', 'call-duration');
  const durationValue = make('span', 'call-duration-value');
  duration.append(make('span', 'visually-hidden', 'Duration '), durationValue);
  const last = make('span', 'call-last');
  button.append(who, meta, status, duration, last);
  li.append(button);
  return { li, button, name, sub, agent, type, status, sentiment, transfer, durationValue, last };
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
  document.title = waiting > 0 ? `(${waiting}) Transfer requested · livecalls` : `livecalls · ${list.length} active`;

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
