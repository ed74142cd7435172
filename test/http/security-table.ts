/**
 * The security table: every API route against every way a caller can be the wrong one, with the status
 * expected. `security.test.ts` runs it on every backend; `npm run security:table` prints it for docs/security.md.
 * Pure data (no test runner, no app), so the printer can import it.
 *
 * Why a table: a route added without its row, or a row whose expectation drifts, is visible in one place
 * (unkey's `test_route_roles.ts` does the same). Every refused cell also checks that nothing changed:
 * no stored event, no LiveKit action on the room, no token handed out.
 */

/** How the caller is wrong (or, for `owner`, right: the control that proves the request itself is valid). */
export type CaseId =
  | 'owner'
  | 'noKey'
  | 'unknownKey'
  | 'revokedKey'
  | 'otherWorkspaceKey'
  | 'otherWorkspaceRoom'
  | 'unverifiedNoRoom'
  | 'unverifiedForeignRoom';

export interface CaseSpec {
  id: CaseId;
  title: string;
  description: string;
}

export const CASES: readonly CaseSpec[] = [
  { id: 'owner', title: 'own key, own call', description: "workspace A's key on A's call that LiveKit's webhooks announced" },
  { id: 'noKey', title: 'no key', description: '`x-workspace-id: A` and no `x-api-key`' },
  { id: 'unknownKey', title: 'unknown key', description: 'a well-formed key that was never issued' },
  {
    id: 'revokedKey',
    title: 'revoked key',
    description: "A's key, accepted once (so the key cache holds it), then revoked through the app's own services",
  },
  { id: 'otherWorkspaceKey', title: "B's key as A", description: "workspace B's valid key sent with `x-workspace-id: A`" },
  {
    id: 'otherWorkspaceRoom',
    title: "A on B's call",
    description:
      "A's valid key on B's live call: the room that LiveKit's signed webhooks put in B (room metadata names B), with a SIP caller and an agent publishing tracks; B's call id; B's webhook endpoint id. A list or a stream answers (200, 101) with A's own calls or endpoints, without B's",
  },
  {
    id: 'unverifiedNoRoom',
    title: 'A, unverified (no room)',
    description: "A's call known only from A's own agent events; LiveKit has no room of that name",
  },
  {
    id: 'unverifiedForeignRoom',
    title: 'A, unverified (foreign room)',
    description:
      "A's call known only from A's own agent events; LiveKit has a room of that name (with an agent and a SIP caller) whose metadata names another workspace",
  },
];

export type RouteId =
  | 'list'
  | 'details'
  | 'insights'
  | 'call'
  | 'sse'
  | 'sseToken'
  | 'ws'
  | 'streamToken'
  | 'events'
  | 'endCall'
  | 'removeAgent'
  | 'restoreAgent'
  | 'listenToken'
  | 'transfer'
  | 'webhookCreate'
  | 'webhookList'
  | 'webhookGet'
  | 'webhookDelete'
  | 'webhookDeliveries'
  | 'alertRulesGet'
  | 'alertRulesPut'
  | 'pricesGet'
  | 'pricesPut'
  | 'historyList'
  | 'historyExport'
  | 'historyGet'
  | 'stats';

/** What a route is aimed at: a call's room, a call id, a webhook endpoint id, or nothing (workspace-wide). */
export type Target = 'room' | 'callId' | 'endpoint' | 'workspace';

export interface RouteSpec {
  id: RouteId;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** As in the OpenAPI document: `{roomName}`, `{id}`. */
  path: string;
  /** Extra query, shown in the table. */
  query?: string;
  transport: 'http' | 'sse' | 'ws';
  target: Target;
  /** The request body; `now` is the test clock (agent events carry their time). */
  body?: (now: number) => Record<string, unknown>;
  /** Acts on LiveKit or hands out a LiveKit token: refused cells check LiveKit saw nothing. */
  control?: boolean;
}

/** The agent the stand-in's calls have (see livekit-server-setup.ts). */
export const AGENT_IDENTITY = 'agent-AJ_1';

export const ROUTES: readonly RouteSpec[] = [
  { id: 'list', method: 'GET', path: '/v2/api/active-calls', transport: 'http', target: 'workspace' },
  { id: 'details', method: 'GET', path: '/v2/api/active-calls/{roomName}', transport: 'http', target: 'room' },
  { id: 'insights', method: 'GET', path: '/v2/api/active-calls/{roomName}/insights', transport: 'http', target: 'room' },
  { id: 'call', method: 'GET', path: '/v2/api/calls/{id}', transport: 'http', target: 'callId' },
  { id: 'sse', method: 'GET', path: '/v2/api/active-calls/stream', transport: 'sse', target: 'workspace' },
  { id: 'sseToken', method: 'GET', path: '/v2/api/active-calls/stream', query: '?token=', transport: 'sse', target: 'workspace' },
  { id: 'ws', method: 'GET', path: '/v2/api/active-calls/ws', transport: 'ws', target: 'workspace' },
  { id: 'streamToken', method: 'POST', path: '/v2/api/stream-tokens', transport: 'http', target: 'workspace', body: () => ({}) },
  {
    id: 'events',
    method: 'POST',
    path: '/v2/api/active-calls/{roomName}/events',
    transport: 'http',
    target: 'room',
    body: (now) => ({ events: [{ id: `probe-${now}`, createdAt: now, type: 'transcript', role: 'customer', content: 'probe turn' }] }),
  },
  { id: 'endCall', method: 'POST', path: '/v2/api/active-calls/{roomName}/end-call', transport: 'http', target: 'room', control: true },
  {
    id: 'removeAgent',
    method: 'POST',
    path: '/v2/api/active-calls/{roomName}/remove-agent',
    transport: 'http',
    target: 'room',
    body: () => ({ participantIdentity: AGENT_IDENTITY }),
    control: true,
  },
  {
    id: 'restoreAgent',
    method: 'POST',
    path: '/v2/api/active-calls/{roomName}/restore-agent',
    transport: 'http',
    target: 'room',
    body: () => ({ participantIdentity: AGENT_IDENTITY }),
    control: true,
  },
  {
    id: 'listenToken',
    method: 'POST',
    path: '/v2/api/active-calls/{roomName}/listen-token',
    transport: 'http',
    target: 'room',
    control: true,
  },
  {
    id: 'transfer',
    method: 'POST',
    path: '/v2/api/active-calls/{roomName}/transfer',
    transport: 'http',
    target: 'room',
    body: () => ({ to: 'tel:+14155550100' }),
    control: true,
  },
  {
    id: 'webhookCreate',
    method: 'POST',
    path: '/v2/api/webhooks',
    transport: 'http',
    target: 'workspace',
    body: () => ({ url: 'https://hooks.example.com/livecalls', events: ['call.started'] }),
  },
  { id: 'webhookList', method: 'GET', path: '/v2/api/webhooks', transport: 'http', target: 'workspace' },
  { id: 'webhookGet', method: 'GET', path: '/v2/api/webhooks/{id}', transport: 'http', target: 'endpoint' },
  { id: 'webhookDelete', method: 'DELETE', path: '/v2/api/webhooks/{id}', transport: 'http', target: 'endpoint' },
  { id: 'webhookDeliveries', method: 'GET', path: '/v2/api/webhooks/{id}/deliveries', transport: 'http', target: 'endpoint' },
  { id: 'alertRulesGet', method: 'GET', path: '/v2/api/alert-rules', transport: 'http', target: 'workspace' },
  {
    id: 'alertRulesPut',
    method: 'PUT',
    path: '/v2/api/alert-rules',
    transport: 'http',
    target: 'workspace',
    body: () => ({ rules: [{ id: 'slow', kind: 'latency_p95', ms: 1500, turns: 5 }] }),
  },
  { id: 'pricesGet', method: 'GET', path: '/v2/api/prices', transport: 'http', target: 'workspace' },
  {
    id: 'pricesPut',
    method: 'PUT',
    path: '/v2/api/prices',
    transport: 'http',
    target: 'workspace',
    body: () => ({ llmPromptPer1k: 0.01 }),
  },
  { id: 'historyList', method: 'GET', path: '/v2/api/call-history', transport: 'http', target: 'workspace' },
  { id: 'historyExport', method: 'GET', path: '/v2/api/call-history/export', transport: 'http', target: 'workspace' },
  { id: 'historyGet', method: 'GET', path: '/v2/api/call-history/{id}', transport: 'http', target: 'callId' },
  { id: 'stats', method: 'GET', path: '/v2/api/stats', transport: 'http', target: 'workspace' },
];

/**
 * Routes that take no API key, on purpose: LiveKit's own signature, health and metrics (no workspace data),
 * the static dashboard and the API documents. The suite fails on a documented route in neither list.
 */
export const UNAUTHENTICATED_ROUTES: readonly string[] = ['POST /webhooks/livekit', 'GET /healthz', 'GET /readyz', 'GET /metrics'];

/** A status, or the statuses any one of which is right (the suite records which one the code gave). */
export type Expected = number | readonly number[];

const AUTH = { noKey: 401, unknownKey: 401, revokedKey: 401, otherWorkspaceKey: 403 } as const;

/** Room-scoped control: only for a call LiveKit's webhooks put in the caller's workspace. */
const CONTROL = { owner: 200, ...AUTH, otherWorkspaceRoom: 404, unverifiedNoRoom: 404, unverifiedForeignRoom: 404 } as const;

/**
 * Route -> case -> expected status. A missing cell does not apply (there is no room, id or endpoint to aim
 * at). For reads, 200 in the "another workspace's room" column means A's own answer without B's call in it.
 */
export const EXPECTED: Readonly<Record<RouteId, Partial<Record<CaseId, Expected>>>> = {
  list: { owner: 200, ...AUTH, otherWorkspaceRoom: 200, unverifiedNoRoom: 200, unverifiedForeignRoom: 200 },
  details: { owner: 200, ...AUTH, otherWorkspaceRoom: 404, unverifiedNoRoom: 200, unverifiedForeignRoom: 200 },
  insights: { owner: 200, ...AUTH, otherWorkspaceRoom: 404, unverifiedNoRoom: 200, unverifiedForeignRoom: 200 },
  call: { owner: 200, ...AUTH, otherWorkspaceRoom: 404, unverifiedNoRoom: 200, unverifiedForeignRoom: 200 },
  sse: { owner: 200, ...AUTH, otherWorkspaceRoom: 200, unverifiedNoRoom: 200, unverifiedForeignRoom: 200 },
  sseToken: { owner: 200, unknownKey: 401, revokedKey: 401 },
  ws: { owner: 101, ...AUTH, otherWorkspaceRoom: 101, unverifiedNoRoom: 101, unverifiedForeignRoom: 101 },
  streamToken: { owner: 201, ...AUTH },
  // An agent may report a call before LiveKit's webhooks arrive (no room known yet), never into a room that
  // is another workspace's. A room LiveKit holds for another workspace that livecalls has not heard of may be
  // refused or accepted (it depends on whether the route asks LiveKit); accepted, it stays A's own unverified call.
  events: { owner: 202, ...AUTH, otherWorkspaceRoom: 404, unverifiedNoRoom: 202, unverifiedForeignRoom: [202, 404] },
  endCall: CONTROL,
  removeAgent: CONTROL,
  restoreAgent: CONTROL,
  listenToken: CONTROL,
  transfer: CONTROL,
  webhookCreate: { owner: 201, ...AUTH },
  webhookList: { owner: 200, ...AUTH, otherWorkspaceRoom: 200 },
  webhookGet: { owner: 200, ...AUTH, otherWorkspaceRoom: 404 },
  webhookDelete: { owner: 204, ...AUTH, otherWorkspaceRoom: 404 },
  webhookDeliveries: { owner: 200, ...AUTH, otherWorkspaceRoom: 404 },
  alertRulesGet: { owner: 200, ...AUTH },
  alertRulesPut: { owner: 200, ...AUTH },
  pricesGet: { owner: 200, ...AUTH },
  pricesPut: { owner: 200, ...AUTH },
  historyList: { owner: 200, ...AUTH, otherWorkspaceRoom: 200 },
  historyExport: { owner: 200, ...AUTH, otherWorkspaceRoom: 200 },
  // The targets are live calls, which are not history yet: B's is as unknown to A as A's own (404); the
  // owner's 200 on an ended call is in test/http/call-history.test.ts.
  historyGet: { ...AUTH, otherWorkspaceRoom: 404 },
  stats: { owner: 200, ...AUTH, otherWorkspaceRoom: 200 },
};

/** Agent events signed as LiveKit signs (a JWT with the API secret, `sha256` of the body), not an API key. */
export type SignedCaseId = 'roomGrant' | 'noRoomGrant' | 'otherRoomGrant' | 'ownerRoomAsOtherWorkspace' | 'wrongSecret';

export interface SignedCaseSpec {
  id: SignedCaseId;
  title: string;
  expected: Expected;
}

export const SIGNED_CASES: readonly SignedCaseSpec[] = [
  { id: 'roomGrant', title: "grant for B's room X, `x-workspace-id: B`, sent to X", expected: 202 },
  { id: 'noRoomGrant', title: 'no `video.room` grant (message: add the room grant)', expected: 401 },
  { id: 'otherRoomGrant', title: "grant for B's room X replayed to B's room Y", expected: 403 },
  {
    id: 'ownerRoomAsOtherWorkspace',
    title: "grant for B's room X, `x-workspace-id: A` (applied to B's call, or refused; never A's)",
    expected: [202, 401, 403, 404],
  },
  { id: 'wrongSecret', title: 'signed with another secret', expected: 401 },
];

/**
 * The attack the table exists for: A reports a transcript turn into B's room name (which would make it A's
 * call there), then tries every control route on it. Every step must answer this.
 */
export const ATTACK_STEPS: readonly { route: RouteId; expected: number }[] = [
  { route: 'events', expected: 404 },
  { route: 'removeAgent', expected: 404 },
  { route: 'restoreAgent', expected: 404 },
  { route: 'listenToken', expected: 404 },
  { route: 'transfer', expected: 404 },
  { route: 'endCall', expected: 404 },
];

export function showExpected(e: Expected | undefined): string {
  if (e === undefined) return '—';
  return typeof e === 'number' ? String(e) : e.join(' or ');
}

export function routeLabel(r: RouteSpec): string {
  const kind = r.transport === 'sse' ? ' (SSE)' : r.transport === 'ws' ? ' (WebSocket)' : '';
  return `${r.method} ${r.path}${r.query ?? ''}${kind}`;
}
