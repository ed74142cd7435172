/* global document, setTimeout, clearTimeout */
/**
 * The details panel of one call: its facts, the live transcript, insights, and ending the call.
 *
 * Why it works like this:
 *  - The transcript is read once when the panel opens; turns that arrive on the stream meanwhile are
 *    buffered and merged, so none is lost or shown twice.
 *  - A turn that arrives out of order, or a transcript change without turns, is simplest read again.
 *  - Insights are asked for at most every few seconds, whatever the stream brings.
 *  - The agent's telemetry is read from the call's record (`/v2/api/calls/{id}`) when the panel opens, then
 *    comes with every frame of the call; an answer older than a frame never overwrites it.
 */
import { api, authLost, callPath, isAuthError, roomPath } from './api.js';
import { remove, scheduleRender } from './board.js';
import { agentLabel, announce, callerName, el, formatDuration, make, sentimentBadge } from './dom.js';
import { durationOf, state } from './state.js';
import { renderAlerts, renderTelemetry, telemetryOf } from './telemetry.js';

const INSIGHTS_EVERY_MS = 5_000;

export function openDetails(roomName) {
  const call = state.calls.get(roomName);
  if (!call) return;
  clearTimeout(state.detail?.insightsTimer);
  state.detail = {
    roomName,
    item: call.item,
    telemetry: call.telemetry,
    transcript: [],
    lastAt: 0,
    loading: false,
    buffered: [],
    ended: false,
    detailGen: 0,
    insightsAt: 0,
    insightsBusy: false,
    insightsTimer: undefined,
  };
  el.details.hidden = false;
  el.detailsEnded.hidden = true;
  el.detailsError.hidden = true;
  el.endCall.disabled = false;
  el.endCall.textContent = 'End call';
  el.transcript.replaceChildren(make('li', 'empty', 'Loading…'));
  el.insights.replaceChildren(make('p', 'empty', 'Loading…'));
  renderFacts();
  scheduleRender();
  el.detailsHeading.focus();
  void loadDetails();
  scheduleInsights(true);
}

export function closeDetails() {
  const d = state.detail;
  if (!d) return;
  clearTimeout(d.insightsTimer);
  state.detail = null;
  el.details.hidden = true;
  scheduleRender();
  const row = state.rows.get(d.roomName);
  if (row) row.button.focus();
  else el.callsHeading.focus();
}

/** Forgets the panel without moving the focus (signing out). */
export function resetDetails() {
  clearTimeout(state.detail?.insightsTimer);
  state.detail = null;
  el.details.hidden = true;
  if (el.confirmEnd.open) el.confirmEnd.close();
}

function fact(dl, name, value, key) {
  const row = make('div', 'fact');
  const dd = make('dd', '', value);
  if (key) dd.dataset.fact = key;
  row.append(make('dt', '', name), dd);
  dl.append(row);
  return dd;
}

export function renderFacts() {
  const d = state.detail;
  if (!d) return;
  const call = state.calls.get(d.roomName);
  const item = call?.item ?? d.item;
  d.item = item;
  if (call?.telemetry) d.telemetry = call.telemetry;
  renderAlerts(el.detailsAlerts, d.telemetry);
  el.details.dataset.alert = String(el.detailsAlerts.querySelector('.alert-banner') !== null);
  renderTelemetry(el.telemetry, d.telemetry);
  el.detailsHeading.textContent = callerName(item);
  el.details.dataset.transfer = String(item.transferRequested);
  el.detailsTransfer.hidden = !item.transferRequested;
  const dl = el.detailsFacts;
  dl.replaceChildren();
  fact(dl, 'Phone', item.customerPhone || '—');
  fact(dl, 'Agent', agentLabel(item.aiAgentName));
  fact(dl, 'Type', item.type === 'phone' ? 'Phone' : 'Web');
  fact(dl, 'Duration', call ? formatDuration(durationOf(call)) : '—', 'duration');
  const sentiment = fact(dl, 'Sentiment', '');
  sentiment.append(sentimentBadge(item.sentiment));
  fact(dl, 'Participants', item.participants.map((p) => (p.isAgent ? `${p.identity} (agent)` : p.identity)).join(', ') || '—');
  fact(dl, 'Room', item.roomName);
}

/** Once a second: the open call's duration. */
export function tickDetails() {
  const d = state.detail;
  const call = d && !d.ended ? state.calls.get(d.roomName) : undefined;
  const cell = el.detailsFacts.querySelector('[data-fact="duration"]');
  if (call && cell) cell.textContent = formatDuration(durationOf(call));
}

export function markEnded(message) {
  const d = state.detail;
  if (!d) return;
  d.ended = true;
  clearTimeout(d.insightsTimer);
  el.detailsEnded.textContent = message;
  el.detailsEnded.hidden = false;
  el.endCall.disabled = true;
  const cell = el.detailsFacts.querySelector('[data-fact="duration"]');
  // Both the end-call answer and the stream's call.ended frame say so: once is enough.
  if (cell && !cell.textContent.endsWith(' (ended)')) cell.textContent += ' (ended)';
}

function turnItem(turn) {
  const li = make('li', 'turn');
  li.dataset.role = turn.role;
  li.append(make('span', 'turn-role', turn.role === 'agent' ? 'Agent' : 'Customer'), make('span', 'turn-text', turn.content));
  return li;
}

function appendTurns(turns) {
  if (turns.length === 0) return;
  const box = el.transcript;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  const empty = box.querySelector('.empty');
  if (empty) empty.remove();
  const fragment = document.createDocumentFragment();
  for (const turn of turns) fragment.append(turnItem(turn));
  box.append(fragment);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

const sameTurn = (a, b) => a.role === b.role && a.content === b.content;

/** Turns that arrived while the transcript was being read: skip those the read already had. */
function unseen(transcript, buffered) {
  for (let k = Math.min(transcript.length, buffered.length); k > 0; k -= 1) {
    const tail = transcript.slice(transcript.length - k);
    if (tail.every((t, i) => sameTurn(t, buffered[i]))) return buffered.slice(k);
  }
  return buffered;
}

export async function loadDetails() {
  const d = state.detail;
  if (!d || d.ended) return;
  const gen = ++d.detailGen;
  d.loading = true;
  d.buffered = [];
  void loadTelemetry(d);
  try {
    const details = await api('GET', roomPath(d.roomName));
    if (state.detail !== d || gen !== d.detailGen || d.ended) return;
    const missed = unseen(details.transcript, d.buffered);
    d.transcript = [...details.transcript, ...missed];
    d.lastAt = Math.max(0, ...d.buffered.map((t) => Date.parse(t.at) || 0));
    d.loading = false;
    d.buffered = [];
    el.transcript.replaceChildren();
    if (d.transcript.length === 0) el.transcript.append(make('li', 'empty', 'No messages yet.'));
    else appendTurns(d.transcript);
    el.transcript.scrollTop = el.transcript.scrollHeight;
  } catch (err) {
    if (state.detail !== d || gen !== d.detailGen) return;
    d.loading = false;
    if (isAuthError(err)) return authLost(err);
    if (err.status === 404) return markEnded('The call has ended.');
    showDetailsError(`Could not load the transcript: ${err.message}`);
  }
}

async function loadTelemetry(d) {
  const seq = state.calls.get(d.roomName)?.telemetrySeq ?? 0;
  let record;
  try {
    record = await api('GET', callPath(d.item.id));
  } catch (err) {
    if (state.detail !== d) return;
    if (isAuthError(err)) return authLost(err);
    // The transcript's read says what went wrong with the call; the telemetry just stays as it was.
    return;
  }
  const telemetry = telemetryOf(record);
  if (state.detail !== d || !telemetry) return;
  const call = state.calls.get(d.roomName);
  // A frame that arrived while this was read brought fresher telemetry than the answer: keep the frame's.
  if (call && call.item.id === record.id) {
    if (call.telemetrySeq !== seq) return;
    call.telemetry = telemetry;
    scheduleRender();
  }
  d.telemetry = telemetry;
  renderFacts();
}

export function applyTurns(newTurns, changes) {
  const d = state.detail;
  if (d.loading) {
    d.buffered.push(...newTurns);
    return;
  }
  const ats = newTurns.map((t) => Date.parse(t.at) || 0);
  // A turn older than one already shown belongs mid-transcript (turns are ordered by when they were
  // said), and a transcript change without turns is something else: both are simplest read again.
  const outOfOrder = ats.some((at, i) => at < (i === 0 ? d.lastAt : ats[i - 1]));
  if (outOfOrder || (changes.includes('transcript') && newTurns.length === 0)) {
    void loadDetails();
    return;
  }
  if (newTurns.length === 0) return;
  d.lastAt = Math.max(d.lastAt, ...ats);
  d.transcript.push(...newTurns);
  appendTurns(newTurns);
}

function showDetailsError(message) {
  el.detailsError.textContent = message;
  el.detailsError.hidden = false;
}

export function scheduleInsights(now = false) {
  const d = state.detail;
  if (!d || d.ended || d.insightsTimer !== undefined) return;
  const wait = now ? 0 : Math.max(0, d.insightsAt + INSIGHTS_EVERY_MS - Date.now());
  d.insightsTimer = setTimeout(() => {
    d.insightsTimer = undefined;
    void loadInsights(d);
  }, wait);
}

async function loadInsights(d) {
  if (state.detail !== d || d.ended) return;
  if (d.insightsBusy) return scheduleInsights();
  d.insightsBusy = true;
  d.insightsAt = Date.now();
  el.insights.setAttribute('aria-busy', 'true');
  try {
    const insights = await api('GET', `${roomPath(d.roomName)}/insights`);
    if (state.detail !== d) return;
    renderInsights(insights);
  } catch (err) {
    if (state.detail !== d) return;
    if (isAuthError(err)) return authLost(err);
    if (err.status !== 404) el.insights.replaceChildren(make('p', 'error', `Insights unavailable: ${err.message}`));
  } finally {
    d.insightsBusy = false;
    el.insights.setAttribute('aria-busy', 'false');
  }
}

function renderInsights(insights) {
  const parts = [];
  const head = make('p', 'insight-sentiment', 'Overall: ');
  head.append(sentimentBadge(insights.sentiment));
  parts.push(head);
  parts.push(make('p', 'insight-summary', insights.summary || 'Nothing said yet.'));
  if (insights.topics.length > 0) {
    const topics = make('ul', 'topics');
    topics.setAttribute('aria-label', 'Topics');
    for (const t of insights.topics) topics.append(make('li', 'topic', t));
    parts.push(topics);
  }
  if (insights.suggestions.length > 0) {
    parts.push(make('h4', '', 'Suggestions'));
    const list = make('ul', 'suggestions');
    for (const s of insights.suggestions) list.append(make('li', '', s));
    parts.push(list);
  }
  // Say when a language model wrote them: a supervisor weighs its words differently from the offline models'.
  if (insights.source === 'llm') parts.push(make('p', 'insight-source', `Written by ${insights.model}`));
  el.insights.replaceChildren(...parts);
}

// -------------------------------------------------------------------------------------------- end call

export function askEndCall() {
  const d = state.detail;
  if (!d || d.ended) return;
  el.confirmEndText.textContent = `${callerName(d.item)} (${d.item.roomName}) will be disconnected. This cannot be undone.`;
  el.confirmEnd.returnValue = '';
  el.confirmEnd.showModal();
}

export async function endCall(d) {
  el.detailsError.hidden = true;
  el.endCall.disabled = true;
  el.endCall.textContent = 'Ending…';
  try {
    const answer = await api('POST', `${roomPath(d.roomName)}/end-call`);
    if (state.detail === d) {
      markEnded(answer.message || 'Call ended.');
      // The focused button is now disabled; Close is the one thing left to do here.
      el.detailsClose.focus();
    }
    remove(d.roomName);
    announce(`Call with ${callerName(d.item)} ended.`);
  } catch (err) {
    if (isAuthError(err)) return authLost(err);
    if (state.detail !== d) return;
    if (err.status === 404 || err.status === 409) return markEnded('The call has already ended.');
    el.endCall.disabled = false;
    showDetailsError(`Could not end the call: ${err.message}`);
  } finally {
    el.endCall.textContent = 'End call';
  }
}
