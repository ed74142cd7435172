/* global fetch */
/**
 * The Active Calls API as the board uses it: every request carries the workspace's key and id from this
 * tab's session, and every failure becomes an ApiError with the server's code and message.
 *
 * A refused key (401/403) anywhere means the session is over; whoever signs in registers what to do then
 * with `onAuthLost`, so no module needs to know how signing out works.
 */
import { state } from './state.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path) {
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

export function isAuthError(err) {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

export function authMessage(err) {
  if (err.status === 401) return 'That API key was not accepted: it is unknown or has been revoked.';
  if (err.status === 403) return 'That API key does not belong to this workspace. Check the workspace id.';
  return err.message;
}

let authLostHandler = () => {};

/** Registers what to do when the server refuses the key (sign out, with the reason). */
export function onAuthLost(handler) {
  authLostHandler = handler;
}

/** Ends the session because the server refused the key. */
export function authLost(err) {
  authLostHandler(`Signed out: ${authMessage(err)}`);
}

export const roomPath = (roomName) => `/v2/api/active-calls/${encodeURIComponent(roomName)}`;

/** A call by id, active or ended: the record that carries the agent's telemetry and alerts. */
export const callPath = (id) => `/v2/api/calls/${encodeURIComponent(id)}`;

export async function newStreamToken() {
  const { token } = await api('POST', '/v2/api/stream-tokens');
  return token;
}
