/* global document, setTimeout */
/**
 * The page's elements and the small helpers every part of the board shares: building nodes (text only
 * ever goes in as textContent, never parsed as HTML), icons, badges, labels, durations, announcements.
 */

export const $ = (id) => document.getElementById(id);

export const el = {
  connection: $('connection'),
  connectionText: $('connection-text'),
  who: $('who'),
  views: $('views'),
  navLive: $('nav-live'),
  navAnalytics: $('nav-analytics'),
  analytics: $('analytics'),
  analyticsError: $('analytics-error'),
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
  countAlerts: $('count-alerts'),
  agentLatency: $('agent-latency'),
  agentLatencyEmpty: $('agent-latency-empty'),
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
  detailsAlerts: $('details-alerts'),
  telemetry: $('telemetry'),
  detailsFacts: $('details-facts'),
  detailsError: $('details-error'),
  endCall: $('end-call'),
  insights: $('insights'),
  transcript: $('transcript'),
  confirmEnd: $('confirm-end'),
  confirmEndText: $('confirm-end-text'),
};

export function make(tag, className, text) {
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

export function icon(name) {
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

export const label = (s) => (s ? s[0].toUpperCase() + s.slice(1) : '');
export const callerName = (item) => item.customerName || item.customerPhone || 'Unknown caller';
export const agentLabel = (name) => name || 'Unknown agent';

export function sentimentBadge(sentiment) {
  const badge = make('span', 'badge sentiment');
  badge.dataset.sentiment = sentiment;
  badge.append(icon(sentiment), make('span', '', label(sentiment)));
  return badge;
}

export function transferBadge() {
  const badge = make('span', 'badge transfer');
  badge.append(icon('alert'), make('span', '', 'Wants a human'));
  return badge;
}

export function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function announce(text, urgent = false) {
  const region = urgent ? el.urgent : el.polite;
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}
