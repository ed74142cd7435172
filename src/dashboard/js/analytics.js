/* global document, devicePixelRatio, ResizeObserver, URLSearchParams, setInterval, clearInterval, getComputedStyle */
/**
 * The analytics view: the last 24 hours of the workspace from `GET /v2/api/stats` (exact concurrency from
 * calls' start and end times, per bucket), drawn with uPlot, which livecalls serves itself (no CDN: the
 * page's strict CSP stays).
 *
 * Why it works like this:
 *  - This module and the chart library are loaded only when the view is first opened, so the live board
 *    never waits for them.
 *  - Two questions, two bucket sizes: concurrency at 5 minutes (a peak is short), calls per hour at 1 hour.
 *  - "Today's peak" is today's in this browser's time zone: the 24-hour window's exact peak when it falls
 *    today, else the highest 5-minute bucket since midnight.
 *  - Charts follow their box's width (ResizeObserver), so the view reads on a phone.
 *  - Every chart has its numbers in words beside it (totals, the peak, the legends and the table).
 */
import uPlot from '../vendor/uplot.js';
import { api, authLost, isAuthError } from './api.js';
import { $, formatDuration, label, make } from './dom.js';

const REFRESH_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const SENTIMENTS = ['positive', 'neutral', 'negative'];

const el = {
  section: $('analytics'),
  heading: $('analytics-heading'),
  updated: $('analytics-updated'),
  refresh: $('analytics-refresh'),
  error: $('analytics-error'),
  totals: $('analytics-totals'),
  concurrency: $('chart-concurrency'),
  peak: $('concurrency-peak'),
  hourly: $('chart-hourly'),
  mix: $('sentiment-mix'),
  legend: $('sentiment-legend'),
  agents: $('agents-table'),
  agentsEmpty: $('agents-empty'),
};

const view = {
  charts: new Map(),
  timer: undefined,
  busy: false,
  gen: 0,
};

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const percent = (rate) => (typeof rate === 'number' && Number.isFinite(rate) ? `${Math.round(rate * 100)}%` : '—');
const seconds = (s) => (typeof s === 'number' && Number.isFinite(s) ? formatDuration(s) : '—');
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function statsPath(from, to, bucket) {
  const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket });
  return `/v2/api/stats?${query}`;
}

/** The highest concurrency since this browser's midnight: `{ value, at }` (epoch ms), or null. */
export function todaysPeak(stats, now = Date.now()) {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const since = midnight.getTime();
  const exactAt = stats.totals.concurrencyPeakAt ? Date.parse(stats.totals.concurrencyPeakAt) : NaN;
  if (stats.totals.concurrencyPeak > 0 && exactAt >= since) return { value: stats.totals.concurrencyPeak, at: exactAt };
  let best = null;
  for (const b of stats.buckets) {
    const at = Date.parse(b.start);
    if (at >= since && b.concurrencyPeak > 0 && (!best || b.concurrencyPeak > best.value)) best = { value: b.concurrencyPeak, at };
  }
  return best;
}

function axes(yLabel) {
  const stroke = css('--muted');
  const grid = { stroke: css('--border'), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, label: yLabel, size: 44, labelSize: 18, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
  ];
}

function chartSize(box) {
  const width = Math.max(240, Math.floor(box.clientWidth));
  return { width, height: width < 480 ? 180 : 220 };
}

/** Draws (or redraws) a chart in `box`, sized to it. */
function draw(box, opts, data) {
  view.charts.get(box)?.destroy();
  box.replaceChildren();
  const chart = new uPlot({ ...opts, ...chartSize(box) }, data, box);
  view.charts.set(box, chart);
  return chart;
}

/** Marks the peak on the concurrency chart: a ring on the point and its value. */
function peakMarker(peak) {
  return (u) => {
    if (!peak) return;
    const x = u.valToPos(peak.at / 1000, 'x', true);
    const y = u.valToPos(peak.value, 'y', true);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const { ctx } = u;
    const r = 6 * devicePixelRatio;
    ctx.save();
    ctx.strokeStyle = css('--amber');
    ctx.fillStyle = css('--amber');
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.font = `700 ${12 * devicePixelRatio}px system-ui, sans-serif`;
    const text = `Peak ${peak.value}`;
    const w = ctx.measureText(text).width;
    const left = Math.min(Math.max(x - w / 2, u.bbox.left), u.bbox.left + u.bbox.width - w);
    ctx.fillText(text, left, Math.max(y - r - 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio));
    ctx.restore();
  };
}

function renderConcurrency(stats) {
  const xs = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const peak = todaysPeak(stats);
  el.peak.textContent = peak ? `Today's peak: ${peak.value} at ${clock(peak.at)}` : 'No calls today yet.';
  el.concurrency.dataset.peak = peak ? String(peak.value) : '';
  el.concurrency.setAttribute('aria-label', `Concurrent calls over the last 24 hours, in 5-minute steps. ${el.peak.textContent}`);
  draw(
    el.concurrency,
    {
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.2))] } },
      axes: axes('calls'),
      series: [
        {},
        {
          label: 'Peak',
          stroke: css('--focus'),
          fill: 'rgba(125, 211, 252, 0.18)',
          width: 2,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: false },
        },
        { label: 'Average', stroke: css('--positive'), width: 1.5, points: { show: false } },
      ],
      hooks: { draw: [peakMarker(peak)] },
    },
    [xs, stats.buckets.map((b) => b.concurrencyPeak), stats.buckets.map((b) => b.concurrencyAvg)],
  );
}

function renderHourly(stats) {
  const xs = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const started = stats.buckets.map((b) => b.started);
  const total = started.reduce((a, b) => a + b, 0);
  // An empty hour draws no bar at all (a zero-height bar would still draw its outline).
  const bars = started.map((n) => (n > 0 ? n : null));
  const busiest = stats.buckets.reduce((best, b) => (b.started > (best?.started ?? 0) ? b : best), null);
  el.hourly.setAttribute(
    'aria-label',
    `Calls started per hour over the last 24 hours: ${total} in all${busiest ? `, most at ${clock(Date.parse(busiest.start))} (${busiest.started})` : ''}.`,
  );
  draw(
    el.hourly,
    {
      // Half an hour of room on each side, so the first and the current hour's bars are drawn whole.
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 1800, max + 1800] },
        y: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.15))] },
      },
      axes: axes('calls'),
      series: [
        {},
        {
          label: 'Started',
          stroke: css('--amber'),
          fill: 'rgba(251, 191, 36, 0.55)',
          paths: uPlot.paths.bars({ size: [0.7, 40] }),
          points: { show: false },
        },
      ],
    },
    [xs, bars],
  );
}

function renderSentiment(totals) {
  const counts = SENTIMENTS.map((s) => [s, totals.sentiment?.[s] ?? 0]);
  const sum = counts.reduce((a, [, n]) => a + n, 0);
  el.mix.replaceChildren();
  el.legend.replaceChildren();
  for (const [s, n] of counts) {
    const share = sum ? n / sum : 0;
    if (n > 0) {
      const part = make('span', 'mix-part');
      part.dataset.sentiment = s;
      // CSSOM, not a style attribute: allowed by the page's CSP.
      part.style.flexGrow = String(n);
      el.mix.append(part);
    }
    const row = make('div', 'count-row');
    row.dataset.key = s;
    const dt = make('dt', 'sentiment-key');
    dt.dataset.sentiment = s;
    dt.append(make('span', 'swatch'), make('span', '', label(s)));
    row.append(dt, make('dd', '', `${n} (${percent(share)})`));
    el.legend.append(row);
  }
  if (sum === 0) el.mix.append(make('span', 'mix-empty', 'No calls'));
  el.mix.setAttribute('aria-label', `Sentiment of the calls: ${counts.map(([s, n]) => `${label(s)} ${n}`).join(', ')}.`);
}

function renderTotals(stats) {
  const t = stats.totals;
  const entries = [
    ['Calls', String(t.calls), 'calls'],
    [
      'Peak concurrency',
      t.concurrencyPeakAt ? `${t.concurrencyPeak} at ${clock(Date.parse(t.concurrencyPeakAt))}` : String(t.concurrencyPeak),
      'peak',
    ],
    ['Median duration', seconds(t.durationP50), 'p50'],
    ['p90 duration', seconds(t.durationP90), 'p90'],
    ['Transferred', percent(t.transferRate), 'transfer'],
  ];
  el.totals.replaceChildren();
  for (const [name, value, key] of entries) {
    const tile = make('div', 'total card');
    tile.dataset.key = key;
    tile.append(make('dt', '', name), make('dd', '', value));
    el.totals.append(tile);
  }
}

/** A table cell that carries its column's name, for the stacked layout on a phone. */
function cell(column, text) {
  const td = make('td', '', text);
  td.dataset.label = column;
  return td;
}

function renderAgents(agents) {
  el.agents.replaceChildren();
  el.agentsEmpty.hidden = agents.length > 0;
  for (const a of [...agents].sort((x, y) => y.calls - x.calls || String(x.agent).localeCompare(String(y.agent)))) {
    const tr = make('tr');
    tr.dataset.agent = a.agent ?? '';
    const th = make('th', '', a.agent || 'Unknown agent');
    th.scope = 'row';
    tr.append(
      th,
      cell('Calls', String(a.calls)),
      cell('Median duration', seconds(a.durationP50)),
      cell('p90 duration', seconds(a.durationP90)),
      cell('Transferred', percent(a.transferRate)),
      ...SENTIMENTS.map((s) => cell(label(s), String(a.sentiment?.[s] ?? 0))),
    );
    el.agents.append(tr);
  }
}

async function load() {
  if (view.busy) return;
  view.busy = true;
  const gen = ++view.gen;
  el.section.setAttribute('aria-busy', 'true');
  const to = Date.now();
  const from = to - DAY_MS;
  try {
    const [fine, hourly] = await Promise.all([api('GET', statsPath(from, to, '5m')), api('GET', statsPath(from, to, '1h'))]);
    if (gen !== view.gen || el.section.hidden) return;
    el.error.hidden = true;
    renderTotals(fine);
    renderConcurrency(fine);
    renderHourly(hourly);
    renderSentiment(fine.totals);
    renderAgents(fine.agents);
    el.section.dataset.loaded = 'true';
    el.updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (gen !== view.gen) return;
    if (isAuthError(err)) return authLost(err);
    el.error.textContent = `Could not load the analytics: ${err.message}`;
    el.error.hidden = false;
  } finally {
    view.busy = false;
    el.section.setAttribute('aria-busy', 'false');
  }
}

const resize = new ResizeObserver(() => {
  for (const [box, chart] of view.charts) {
    const size = chartSize(box);
    if (size.width !== chart.width || size.height !== chart.height) chart.setSize(size);
  }
});
resize.observe(el.concurrency);
resize.observe(el.hourly);
el.refresh.addEventListener('click', () => void load());

/** Shows the view: loads now and every minute while it stays open. */
export function showAnalytics() {
  el.section.hidden = false;
  void load();
  clearInterval(view.timer);
  view.timer = setInterval(() => void load(), REFRESH_MS);
}

/** Hides the view (or signs out): stops refreshing and forgets what was shown. */
export function hideAnalytics({ forget = false } = {}) {
  el.section.hidden = true;
  clearInterval(view.timer);
  view.timer = undefined;
  view.gen += 1;
  if (forget) {
    for (const chart of view.charts.values()) chart.destroy();
    view.charts.clear();
    for (const box of [el.totals, el.concurrency, el.hourly, el.mix, el.legend, el.agents]) box.replaceChildren();
    el.peak.textContent = '';
    el.updated.textContent = '';
    delete el.section.dataset.loaded;
  }
}

export function focusAnalytics() {
  el.heading.focus();
}
