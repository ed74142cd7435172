/**
 * The agent's live telemetry of a call (docs: contracts B and C in the API reference): its state, latency
 * per stage, interruptions, usage and cost, errors, tools and alerts, as the board and the details panel
 * show them, and the per-agent latency panel aggregated here from the live calls.
 *
 * Why it works like this:
 *  - Telemetry travels beside the call in details and in the stream's call frames, never in the list
 *    item; a frame without it keeps what the board already had, so a snapshot never blanks the board.
 *  - The per-agent panel has only each call's summary (last, p50, p95), not every turn, so it says what it
 *    can honestly say: the median of the calls' p50 and the worst call's p95.
 *  - Alerts are kept by id and replaced whole, so a repeated or late `call.alert` frame is harmless.
 */
import { icon, label, make } from './dom.js';

export const METRICS = [
  ['e2e', 'End to end'],
  ['llmTtft', 'LLM first token'],
  ['ttsTtfb', 'TTS first byte'],
  ['endOfTurnDelay', 'End of turn'],
  ['transcriptionDelay', 'Transcription'],
];

const TELEMETRY_KEYS = ['agentState', 'customerState', 'latency', 'interruptions', 'usage', 'errors', 'tools', 'alerts'];

/** The telemetry carried by a frame or a details answer, or undefined when it carries none. */
export function telemetryOf(...sources) {
  for (const source of sources) {
    if (source && typeof source === 'object' && source.latency && typeof source.latency === 'object') {
      return Object.fromEntries(TELEMETRY_KEYS.map((k) => [k, source[k]]));
    }
  }
  return undefined;
}

/** Applies one `call.alert` frame's alert to a call's telemetry (created if the call had none yet). */
export function withAlert(telemetry, alert) {
  const base = telemetry ?? { agentState: null, customerState: null, alerts: [] };
  const alerts = (base.alerts ?? []).filter((a) => a.id !== alert.id);
  alerts.push(alert);
  alerts.sort((a, b) => Date.parse(a.firedAt) - Date.parse(b.firedAt));
  return { ...base, alerts };
}

/** True when the agent has reported nothing yet (the API still answers the shape, all zeros and nulls). */
export function isEmptyTelemetry(t) {
  if (!t) return true;
  const u = t.usage ?? {};
  return (
    !t.agentState &&
    !t.customerState &&
    !t.latency?.turns &&
    !t.interruptions?.count &&
    !t.errors?.count &&
    !t.tools?.count &&
    !u.llmPromptTokens &&
    !u.llmCompletionTokens &&
    !u.ttsCharacters &&
    !u.sttSeconds
  );
}

export const activeAlerts = (telemetry) => (telemetry?.alerts ?? []).filter((a) => !a.clearedAt);

const KIND_LABELS = {
  dead_air: 'Dead air',
  latency_p95: 'Slow replies',
  agent_error: 'Agent errors',
  negative_streak: 'Upset caller',
  human_requested: 'Wants a human',
  phrase: 'Phrase',
  long_call: 'Long call',
};
export const alertKindLabel = (kind) => KIND_LABELS[kind] ?? label(String(kind).replaceAll('_', ' '));

/** "820 ms", "1.40 s": a number and its unit never split across lines (a no-break space). */
export function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)}\u00a0ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}\u00a0s`;
}

const STATE_LABELS = {
  initializing: 'Starting',
  idle: 'Idle',
  listening: 'Listening',
  thinking: 'Thinking',
  speaking: 'Speaking',
  closed: 'Closed',
  away: 'Away',
};

/** A small chip for an agent's or a caller's state; the word is always there, colour only helps. */
export function stateChip(stateName, who = 'agent') {
  const chip = make('span', 'state-chip');
  chip.dataset.state = stateName ?? 'unknown';
  chip.dataset.who = who;
  chip.append(make('span', 'state-dot'), make('span', '', stateName ? (STATE_LABELS[stateName] ?? label(stateName)) : 'No state'));
  return chip;
}

export function alertBadge(alert) {
  const badge = make('span', 'badge alert');
  badge.dataset.kind = alert.kind;
  badge.title = alert.message;
  badge.append(icon('alert'), make('span', '', alertKindLabel(alert.kind)));
  return badge;
}

/** "p50 820 ms · p95 1.40 s" for the board's row, or empty when no turn carried a metric yet. */
export function rowLatency(telemetry) {
  const e2e = telemetry?.latency?.e2e;
  if (!e2e) return '';
  return `p50\u00a0${formatMs(e2e.p50)} · p95\u00a0${formatMs(e2e.p95)}`;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Per agent, over its live calls: how many calls, how many measured turns, the median of the calls' e2e
 * and LLM time-to-first-token p50, and the worst call's e2e p95. Agents without a measured turn are listed
 * with dashes, so a silent agent is visible too.
 */
export function agentLatency(calls, agentName) {
  const byAgent = new Map();
  for (const call of calls) {
    const name = agentName(call.item.aiAgentName);
    const entry = byAgent.get(name) ?? { agent: name, calls: 0, turns: 0, e2eP50: [], e2eP95: [], ttftP50: [] };
    entry.calls += 1;
    const latency = call.telemetry?.latency;
    if (latency) {
      entry.turns += latency.turns ?? 0;
      if (latency.e2e) {
        entry.e2eP50.push(latency.e2e.p50);
        entry.e2eP95.push(latency.e2e.p95);
      }
      if (latency.llmTtft) entry.ttftP50.push(latency.llmTtft.p50);
    }
    byAgent.set(name, entry);
  }
  return [...byAgent.values()]
    .map((e) => ({
      agent: e.agent,
      calls: e.calls,
      turns: e.turns,
      e2eP50: e.e2eP50.length ? median(e.e2eP50) : null,
      e2eP95: e.e2eP95.length ? Math.max(...e.e2eP95) : null,
      ttftP50: e.ttftP50.length ? median(e.ttftP50) : null,
    }))
    .sort((a, b) => (b.e2eP95 ?? -1) - (a.e2eP95 ?? -1) || a.agent.localeCompare(b.agent));
}

export function renderAgentLatency(tbody, rows) {
  tbody.replaceChildren();
  for (const r of rows) {
    const tr = make('tr');
    tr.dataset.agent = r.agent;
    const th = make('th', '', r.agent);
    th.scope = 'row';
    const cell = (column, text) => {
      const td = make('td', '', text);
      td.dataset.label = column;
      return td;
    };
    tr.append(
      th,
      cell('Calls', String(r.calls)),
      cell('Turns', String(r.turns)),
      cell('Reply p50', formatMs(r.e2eP50)),
      cell('Reply p95', formatMs(r.e2eP95)),
      cell('LLM p50', formatMs(r.ttftP50)),
    );
    tbody.append(tr);
  }
}

// ------------------------------------------------------------------------------------ details panel

const fmtAt = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
};

function numberFact(dl, name, value, key) {
  const row = make('div', 'fact');
  const dd = make('dd', '', value);
  if (key) dd.dataset.telemetry = key;
  row.append(make('dt', '', name), dd);
  dl.append(row);
}

function latencyTable(latency) {
  const table = make('table', 'latency-table');
  table.dataset.telemetry = 'latency';
  const caption = make('caption', '', `Latency over ${latency?.turns ?? 0} measured ${latency?.turns === 1 ? 'turn' : 'turns'}`);
  const head = make('tr');
  for (const h of ['Stage', 'Last', 'p50', 'p95']) {
    const th = make('th', '', h);
    th.scope = 'col';
    head.append(th);
  }
  const thead = make('thead');
  thead.append(head);
  const tbody = make('tbody');
  for (const [key, name] of METRICS) {
    const m = latency?.[key];
    const tr = make('tr');
    tr.dataset.metric = key;
    const th = make('th', '', name);
    th.scope = 'row';
    tr.append(th, make('td', '', formatMs(m?.last)), make('td', '', formatMs(m?.p50)), make('td', '', formatMs(m?.p95)));
    tbody.append(tr);
  }
  table.append(caption, thead, tbody);
  return table;
}

function recentList(className, entries) {
  const ul = make('ul', `recent ${className}`);
  for (const node of entries) ul.append(node);
  return ul;
}

function usageText(usage) {
  if (!usage) return '—';
  const parts = [
    `${usage.llmPromptTokens ?? 0} prompt + ${usage.llmCompletionTokens ?? 0} completion tokens`,
    usage.llmCachedTokens ? `${usage.llmCachedTokens} cached` : '',
    `${usage.ttsCharacters ?? 0} TTS characters`,
    `${Math.round((usage.sttSeconds ?? 0) * 10) / 10} s of speech to text`,
  ];
  return parts.filter(Boolean).join(' · ');
}

function costText(usage) {
  if (!usage || usage.estimatedCost === null || usage.estimatedCost === undefined) return 'No prices set';
  const currency = usage.currency || 'USD';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 4 }).format(usage.estimatedCost);
  } catch {
    return `${usage.estimatedCost.toFixed(4)} ${currency}`;
  }
}

/** The alert banners of the details panel: every alert still active, loudly; cleared ones quietly. */
export function renderAlerts(container, telemetry) {
  const alerts = telemetry?.alerts ?? [];
  container.replaceChildren();
  container.hidden = alerts.length === 0;
  for (const alert of [...alerts].reverse()) {
    const active = !alert.clearedAt;
    const p = make('p', active ? 'alert-banner' : 'alert-cleared');
    p.dataset.alertId = alert.id;
    p.dataset.kind = alert.kind;
    if (active) p.append(icon('alert'));
    const text = make('span', '', `${alertKindLabel(alert.kind)}: ${alert.message}`);
    const when = make('span', 'alert-when', active ? ` since ${fmtAt(alert.firedAt)}` : ` (cleared ${fmtAt(alert.clearedAt)})`);
    p.append(text, when);
    container.append(p);
  }
}

/** The telemetry section of the details panel. */
export function renderTelemetry(container, telemetry) {
  container.replaceChildren();
  if (isEmptyTelemetry(telemetry)) {
    container.append(make('p', 'empty', 'No telemetry from the agent yet.'));
    return;
  }
  const states = make('p', 'states');
  states.append(
    make('span', '', 'Agent '),
    stateChip(telemetry.agentState),
    make('span', '', ' Caller '),
    stateChip(telemetry.customerState, 'customer'),
  );
  const scroll = make('div', 'table-scroll');
  scroll.append(latencyTable(telemetry.latency));
  container.append(states, scroll);

  const dl = make('dl', 'facts telemetry-facts');
  const i = telemetry.interruptions ?? { count: 0, false: 0 };
  numberFact(dl, 'Interruptions', `${i.count}${i.false ? ` (${i.false} false)` : ''}`, 'interruptions');
  numberFact(dl, 'Usage', usageText(telemetry.usage), 'usage');
  numberFact(dl, 'Estimated cost', costText(telemetry.usage), 'cost');
  const errors = telemetry.errors ?? { count: 0, recent: [] };
  numberFact(dl, 'Errors', String(errors.count), 'errors');
  const tools = telemetry.tools ?? { count: 0, failed: 0, recent: [] };
  numberFact(dl, 'Tool calls', `${tools.count}${tools.failed ? ` (${tools.failed} failed)` : ''}`, 'tools');
  container.append(dl);

  if (errors.recent?.length) {
    container.append(make('h4', '', 'Recent errors'));
    container.append(
      recentList(
        'errors',
        [...errors.recent].reverse().map((e) => {
          const li = make('li', e.recoverable ? 'recoverable' : 'fatal');
          li.append(
            make('span', 'recent-when', fmtAt(e.at)),
            make('span', 'recent-what', `${e.source.toUpperCase()}${e.recoverable ? '' : ' (not recoverable)'}: ${e.message}`),
          );
          return li;
        }),
      ),
    );
  }
  if (tools.recent?.length) {
    container.append(make('h4', '', 'Recent tools'));
    container.append(
      recentList(
        'tools',
        [...tools.recent].reverse().map((t) => {
          const li = make('li', t.ok ? 'ok' : 'failed');
          li.append(
            make('span', 'recent-when', fmtAt(t.at)),
            make(
              'span',
              'recent-what',
              `${t.name} ${t.ok ? 'ok' : 'failed'}${t.durationMs === null || t.durationMs === undefined ? '' : ` in ${formatMs(t.durationMs)}`}`,
            ),
          );
          return li;
        }),
      ),
    );
  }
}
