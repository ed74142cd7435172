/* global document, window, location, sessionStorage, setInterval */
/**
 * The live wallboard. Plain browser JavaScript in native ES modules, no build step: it signs in with an
 * API key (kept in this tab's sessionStorage only), follows the workspace's live stream and acts through
 * the Active Calls API like any other client. This module signs in and out and wires the page; the rest
 * lives by concern in js/ (api, stream, board, details, telemetry, analytics, and the shared dom and
 * state). The analytics view and its chart library are imported only when it is first opened.
 *
 * The server rewrites every relative import here and in js/ to a URL carrying the file's content hash, so
 * browsers may keep the modules for ever and still never mix two versions.
 */
import { authMessage, isAuthError, newStreamToken, onAuthLost } from './js/api.js';
import { onRowOpen, render, tickRows } from './js/board.js';
import { askEndCall, closeDetails, endCall, openDetails, resetDetails, tickDetails } from './js/details.js';
import { el } from './js/dom.js';
import { state } from './js/state.js';
import { closeStream, connect, setConnection } from './js/stream.js';

const STORAGE_KEY = 'livecalls.dashboard';

/** The analytics module, once asked for. */
let analytics;

/** Shows the view the URL names: `#analytics`, else the live board. */
function route({ focus = false } = {}) {
  if (!state.creds) return;
  const wantAnalytics = location.hash === '#analytics';
  el.views.hidden = false;
  const [current, other] = wantAnalytics ? [el.navAnalytics, el.navLive] : [el.navLive, el.navAnalytics];
  current.setAttribute('aria-current', 'page');
  other.removeAttribute('aria-current');
  el.board.hidden = wantAnalytics;
  el.analytics.hidden = !wantAnalytics;
  if (wantAnalytics) {
    analytics ??= import('./js/analytics.js');
    analytics.then(
      (m) => {
        if (!state.creds || location.hash !== '#analytics') return;
        m.showAnalytics();
        if (focus) m.focusAnalytics();
      },
      () => {
        // Could not be fetched (offline, or a deployment replaced it): the next visit to the view tries again.
        analytics = undefined;
        el.analyticsError.textContent = 'Could not load the analytics view. Check the connection and reload the page.';
        el.analyticsError.hidden = false;
      },
    );
  } else {
    void analytics?.then((m) => m.hideAnalytics());
    if (focus) el.callsHeading.focus();
  }
}

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
  route();
  el.signOut.hidden = false;
  el.who.hidden = false;
  el.who.textContent = state.creds.workspaceId;
}

function showSignIn(message) {
  el.board.hidden = true;
  el.analytics.hidden = true;
  el.views.hidden = true;
  void analytics?.then((m) => m.hideAnalytics({ forget: true }));
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
  resetDetails();
  state.calls.clear();
  state.announced.clear();
  state.announcedAlerts.clear();
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
    const token = await newStreamToken();
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state.creds));
    showBoard();
    if (location.hash === '#analytics') route({ focus: true });
    else el.callsHeading.focus();
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

onAuthLost(signOut);
onRowOpen(openDetails);
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
window.addEventListener('hashchange', () => route({ focus: location.hash === '#analytics' || location.hash === '#live' }));
window.addEventListener('online', () => {
  if (state.creds && el.connection.dataset.state !== 'live') void connect();
});
setInterval(() => {
  tickRows();
  tickDetails();
}, 1_000);

state.creds = readCreds();
if (state.creds) {
  showBoard();
  void connect();
} else {
  showSignIn();
}
