/* global document, window, sessionStorage, fetch, EventSource, URLSearchParams, setTimeout, clearTimeout, setInterval, queueMicrotask */
/**
 * The live wallboard. Plain browser JavaScript, no build step: it signs in with an API key (kept in this
 * tab's sessionStorage only), follows the workspace's live stream (docs/live-stream.md) and acts through
 * the Active Calls API like any other client.
 *
 * Why it works like this:
 *  - EventSource reconnects by itself, but with the same URL, and a stream token may have expired by then
 *    (401 for ever). So on any error the stream is closed and reopened with a fresh token and
 *    `lastEventId`, which lets the server replay what was missed instead of sending everything again.
 *  - Durations tick here, once a second, from `timestamp - duration`: frames arrive only when a call
 *    changes, and a quiet call must still look alive.
 *  - Every frame carries the whole call, so a frame is applied by replacing the call: a repeat is harmless.
 *  - Text from calls is only ever set as textContent, never parsed as HTML.
 */

const STORAGE_KEY = 'livecalls.dashboard';
const INSIGHTS_EVERY_MS = 5_000;
const RECONNECT_MAX_MS = 15_000;
const SENTIMENTS = ['positive', 'neutral', 'negative'];
const TYPES = ['phone', 'web'];

const $ = (id) => document.getElementById(id);

const el = {
  connection: $('connection'),
  connectionText: $('connection-text'),
  who: $('who'),
  signOut: $('sign-out'),
  urgent: $('announce-urgent'),
  polite: $('announce-polite'),
  signIn: $('sign-in'),
  signInForm: $('sign-in-form'),
  apiKey: $('api-key'),
  workspaceId: $('workspace-id'),
  signInError: $('sign-in-error'),
  signInSubmit: $('sign-in-submit'),
  board: $('board'),
  countTotal: $('count-total'),
  countTransfer: $('count-transfer'),
  countAgent: $('count-agent'),
  countType: $('count-type'),
  countSentiment: $('count-sentiment'),
  calls: $('calls'),
  callsEmpty: $('calls-empty'),
  callsHeading: $('calls-heading'),
  details: $('details'),
  detailsHeading: $('details-heading'),
  detailsClose: $('details-close'),
  detailsEnded: $('details-ended'),
  detailsTransfer: $('details-transfer'),
  detailsFacts: $('details-facts'),
  detailsError: $('details-error'),
  endCall: $('end-call'),
  insights: $('insights'),
  transcript: $('transcript'),
  confirmEnd: $('confirm-end'),
  confirmEndText: $('confirm-end-text'),
};

const state = {
  /** @type {{apiKey: string, workspaceId: string} | null} */
  creds: null,
  /** roomName -> { item, start } with `start` in server time (epoch ms) */
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
  renderQueued: false,
  /** the open details panel, or null */
  detail: null,
};

// ---------------------------------------------------------------------------------------------- helpers

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path) {
  const creds = state.creds;
  if (!creds) throw new ApiError(401, 'unauthorized', 'Not signed in.');
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { 'x-api-key': creds.apiKey, 'x-workspace-id': creds.workspaceId, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check the connection and try again.');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = body && typeof body === 'object' && body.error ? body.error : {};
    throw new ApiError(
      res.status,
      String(error.code ?? `http_${res.status}`),
      String(error.message ?? `The server answered ${res.status}.`),
    );
  }
  return body;
}

function isAuthError(err) {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

function authMessage(err) {
  if (err.status === 401) return 'That API key was not accepted: it is unknown or has been revoked.';
  if (err.status === 403) return 'That API key does not belong to this workspace. Check the workspace id.';
  return err.message;
}

const roomPath = (roomName) => `/v2/api/active-calls/${encodeURIComponent(roomName)}`;

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICONS = {
  alert: [
    ['path', { d: 'M12 2.5 22.5 21h-21Z', fill: 'currentColor' }],
    ['path', { d: 'M12 9v5.5', class: 'cut-line' }],
    ['circle', { cx: '12', cy: '17.6', r: '1.5', class: 'cut-dot' }],
  ],
  positive: [['path', { d: 'M12 4 21 19H3Z', fill: 'currentColor' }]],
  negative: [['path', { d: 'M12 20 3 5h18Z', fill: 'currentColor' }]],
  neutral: [['circle', { cx: '12', cy: '12', r: '7', fill: 'currentColor' }]],
};

function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [tag, attrs] of ICONS[name]) {
    const part = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) part.setAttribute(k, v);
    svg.append(part);
  }
  return svg;
}

function sentimentBadge(sentiment) {
  const badge = make('span', 'badge sentiment');
  badge.dataset.sentiment = sentiment;
  badge.append(icon(sentiment), make('span', '', label(sentiment)));
  return badge;
}

function transferBadge() {
  const badge = make('span', 'badge transfer');
  badge.append(icon('alert'), make('span', '', 'Wants a human'));
  return badge;
}

const label = (s) => (s ? s[0].toUpperCase() + s.slice(1) : '');
const callerName = (item) => item.customerName || item.customerPhone || 'Unknown caller';
const agentLabel = (name) => name || 'Unknown agent';

function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const serverNow = () => Date.now() + state.skew;
const durationOf = (call) => (serverNow() - call.start) / 1000;

function announce(text, urgent = false) {
  const region = urgent ? el.urgent : el.polite;
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}

// ------------------------------------------------------------------------------------------- the calls

function noteServerTime(timestamp) {
  const skew = Date.parse(timestamp) - Date.now();
  if (!Number.isFinite(skew)) return;
  // Network delay moves this by a few ms per frame; only a real clock difference is worth a jump.
  if (!state.skewKnown || Math.abs(skew - state.skew) > 2_000) {
    state.skew = skew;
    state.skewKnown = true;
  }
}

function upsert(item, timestamp) {
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

function remove(roomName) {
  state.calls.delete(roomName);
  state.announced.delete(roomName);
  scheduleRender();
}

const frames = {
  snapshot(data) {
    noteServerTime(data.timestamp);
    const fresh = new Set(data.data.map((item) => item.roomName));
    for (const roomName of [...state.calls.keys()]) if (!fresh.has(roomName)) remove(roomName);
    for (const item of data.data) upsert(item, data.timestamp);
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
    upsert(data.call, data.timestamp);
  },
  'call.updated'(data) {
    noteServerTime(data.timestamp);
    upsert(data.call, data.timestamp);
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
  overflow() {
    // Too far behind to catch up from the log: the next connection starts from a fresh snapshot.
    state.lastEventId = undefined;
  },
};

// ------------------------------------------------------------------------------------------ the stream

function setConnection(kind) {
  const text = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Not connected' }[kind];
  el.connection.dataset.state = kind;
  el.connectionText.textContent = text;
}

function closeStream() {
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

async function newToken() {
  const { token } = await api('POST', '/v2/api/stream-tokens');
  return token;
}

/** Opens the stream; `token` is one just issued (at sign-in), else a fresh one is fetched. */
async function connect(token) {
  closeStream();
  const gen = ++state.gen;
  if (el.connection.dataset.state !== 'reconnecting') setConnection('connecting');
  try {
    token ??= await newToken();
  } catch (err) {
    if (gen !== state.gen) return;
    if (isAuthError(err)) return signOut(`Signed out: ${authMessage(err)}`);
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

// ------------------------------------------------------------------------------------------- rendering

function scheduleRender() {
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
  button.addEventListener('click', () => openDetails(roomName));
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

function render() {
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

function tick() {
  for (const [roomName, row] of state.rows) {
    const call = state.calls.get(roomName);
    if (call) row.durationValue.textContent = formatDuration(durationOf(call));
  }
  const d = state.detail;
  const call = d && !d.ended ? state.calls.get(d.roomName) : undefined;
  const cell = el.detailsFacts.querySelector('[data-fact="duration"]');
  if (call && cell) cell.textContent = formatDuration(durationOf(call));
}

// ---------------------------------------------------------------------------------------- call details

function openDetails(roomName) {
  const call = state.calls.get(roomName);
  if (!call) return;
  clearTimeout(state.detail?.insightsTimer);
  state.detail = {
    roomName,
    item: call.item,
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

function closeDetails() {
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

function fact(dl, name, value, key) {
  const row = make('div', 'fact');
  const dd = make('dd', '', value);
  if (key) dd.dataset.fact = key;
  row.append(make('dt', '', name), dd);
  dl.append(row);
  return dd;
}

function renderFacts() {
  const d = state.detail;
  if (!d) return;
  const call = state.calls.get(d.roomName);
  const item = call?.item ?? d.item;
  d.item = item;
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

function markEnded(message) {
  const d = state.detail;
  if (!d) return;
  d.ended = true;
  clearTimeout(d.insightsTimer);
  el.detailsEnded.textContent = message;
  el.detailsEnded.hidden = false;
  el.endCall.disabled = true;
  const cell = el.detailsFacts.querySelector('[data-fact="duration"]');
  if (cell) cell.textContent += ' (ended)';
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

async function loadDetails() {
  const d = state.detail;
  if (!d || d.ended) return;
  const gen = ++d.detailGen;
  d.loading = true;
  d.buffered = [];
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
    if (isAuthError(err)) return signOut(`Signed out: ${authMessage(err)}`);
    if (err.status === 404) return markEnded('The call has ended.');
    showDetailsError(`Could not load the transcript: ${err.message}`);
  }
}

function applyTurns(newTurns, changes) {
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

function scheduleInsights(now = false) {
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
    if (isAuthError(err)) return signOut(`Signed out: ${authMessage(err)}`);
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

function askEndCall() {
  const d = state.detail;
  if (!d || d.ended) return;
  el.confirmEndText.textContent = `${callerName(d.item)} (${d.item.roomName}) will be disconnected. This cannot be undone.`;
  el.confirmEnd.returnValue = '';
  el.confirmEnd.showModal();
}

async function endCall(d) {
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
    if (isAuthError(err)) return signOut(`Signed out: ${authMessage(err)}`);
    if (state.detail !== d) return;
    if (err.status === 404 || err.status === 409) return markEnded('The call has already ended.');
    el.endCall.disabled = false;
    showDetailsError(`Could not end the call: ${err.message}`);
  } finally {
    el.endCall.textContent = 'End call';
  }
}

// --------------------------------------------------------------------------------------- sign in / out

function readCreds() {
  try {
    const raw = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
    if (raw && typeof raw.apiKey === 'string' && typeof raw.workspaceId === 'string' && raw.apiKey && raw.workspaceId) return raw;
  } catch {
    // unreadable: sign in again
  }
  return null;
}

function showBoard() {
  el.signIn.hidden = true;
  el.board.hidden = false;
  el.signOut.hidden = false;
  el.who.hidden = false;
  el.who.textContent = state.creds.workspaceId;
}

function showSignIn(message) {
  el.board.hidden = true;
  el.signOut.hidden = true;
  el.who.hidden = true;
  el.signIn.hidden = false;
  el.signInError.hidden = !message;
  el.signInError.textContent = message ?? '';
  el.apiKey.value = '';
  el.apiKey.focus();
}

function signOut(message) {
  state.gen += 1;
  closeStream();
  state.creds = null;
  sessionStorage.removeItem(STORAGE_KEY);
  clearTimeout(state.detail?.insightsTimer);
  state.detail = null;
  el.details.hidden = true;
  if (el.confirmEnd.open) el.confirmEnd.close();
  state.calls.clear();
  state.announced.clear();
  state.lastEventId = undefined;
  state.retries = 0;
  render();
  setConnection('off');
  document.title = 'livecalls';
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const apiKey = el.apiKey.value.trim();
  const workspaceId = el.workspaceId.value.trim();
  el.apiKey.setAttribute('aria-invalid', String(!apiKey));
  el.workspaceId.setAttribute('aria-invalid', String(!workspaceId));
  if (!apiKey || !workspaceId) {
    el.signInError.textContent = !apiKey ? 'Enter the API key.' : 'Enter the workspace id.';
    el.signInError.hidden = false;
    (!apiKey ? el.apiKey : el.workspaceId).focus();
    return;
  }
  el.signInSubmit.disabled = true;
  el.signInSubmit.textContent = 'Signing in…';
  el.signInError.hidden = true;
  state.creds = { apiKey, workspaceId };
  try {
    // Asking for a stream token checks the key and the workspace, and the token is needed next anyway.
    const token = await newToken();
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state.creds));
    showBoard();
    el.callsHeading.focus();
    void connect(token);
  } catch (err) {
    state.creds = null;
    el.signInError.textContent = isAuthError(err) ? authMessage(err) : `Sign-in failed: ${err.message}`;
    el.signInError.hidden = false;
    if (isAuthError(err)) el.apiKey.setAttribute('aria-invalid', 'true');
    el.apiKey.focus();
  } finally {
    el.signInSubmit.disabled = false;
    el.signInSubmit.textContent = 'Sign in';
  }
}

// ---------------------------------------------------------------------------------------------- wiring

el.signInForm.addEventListener('submit', (event) => void signIn(event));
el.signOut.addEventListener('click', () => signOut());
el.detailsClose.addEventListener('click', closeDetails);
el.endCall.addEventListener('click', askEndCall);
el.confirmEnd.addEventListener('close', () => {
  const d = state.detail;
  if (el.confirmEnd.returnValue === 'confirm' && d && !d.ended) void endCall(d);
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.detail && !el.confirmEnd.open) closeDetails();
});
window.addEventListener('online', () => {
  if (state.creds && el.connection.dataset.state !== 'live') void connect();
});
setInterval(tick, 1_000);

state.creds = readCreds();
if (state.creds) {
  showBoard();
  void connect();
} else {
  showSignIn();
}
