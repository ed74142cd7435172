/**
 * Authentication. API routes take `x-api-key` + `x-workspace-id` (the Active Calls API's pair); the key must
 * belong to that workspace (403 otherwise). They also take the key alone as `Authorization: Bearer <key>`: a
 * key names its workspace, so one credential is enough (an `x-workspace-id` sent beside it must agree). The agent events route also takes a LiveKit-style signature (see ingest/signature.ts)
 * bound to one room: the token's `video.room` grant must be the path's room, and the workspace is the one
 * LiveKit bound the room to (calls/ownership.ts), never a header alone. Only while LiveKit has not yet told
 * livecalls (webhook or ListRooms) who owns the room does `x-workspace-id` name it, and the call stays
 * unverified until LiveKit confirms it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adoptListedRoom } from '../calls/reconcile.ts';
import type { LiveKitProject } from '../control/projects.ts';
import { AppError } from '../errors.ts';
import { parseRoomMetadata } from '../ingest/livekit.ts';
import type { Services } from '../services.ts';

export interface AuthContext {
  workspaceId: string;
  /** The API key's id, or "livekit:<LiveKit API key>" for a LiveKit-signed request. */
  principal: string;
  /** True when LiveKit itself bound the room to `workspaceId` (a signed request for a room it knows). */
  ownerProven?: boolean;
  /** With `ownerProven`: the sid of the room LiveKit bound the name to (a body's `roomSid` equal to it is proven). */
  roomSid?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | undefined;
    rawBody: string | undefined;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function workspaceHeader(request: FastifyRequest): string {
  const workspaceId = header(request, 'x-workspace-id');
  if (!workspaceId) throw new AppError('invalid_request', 'missing x-workspace-id header', { field: 'headers.x-workspace-id' });
  return workspaceId;
}

const BEARER_KEY = /^Bearer (lc_\S+)$/;

/** The API key a request carries: `x-api-key`, or `Authorization: Bearer lc_…` (never a LiveKit token). */
function apiKeyOf(request: FastifyRequest): { apiKey: string; bearer: boolean } | undefined {
  const apiKey = header(request, 'x-api-key');
  if (apiKey) return { apiKey, bearer: false };
  const bearer = BEARER_KEY.exec(header(request, 'authorization') ?? '')?.[1];
  return bearer ? { apiKey: bearer, bearer: true } : undefined;
}

async function byApiKey(services: Services, request: FastifyRequest, apiKey: string, bearer: boolean): Promise<AuthContext> {
  const key = await services.stores.tenants.verifyKey(apiKey);
  if (!key) throw new AppError('unauthorized', 'invalid or revoked API key');
  // A bearer key names its workspace; the header pair names it twice, and both must agree.
  const workspaceId = bearer ? (header(request, 'x-workspace-id') ?? key.workspaceId) : workspaceHeader(request);
  if (key.workspaceId !== workspaceId) throw new AppError('forbidden', 'this API key is not allowed on that workspace');
  return { workspaceId, principal: key.id };
}

/** onRequest hook: API key + workspace. */
export function requireApiKey(services: Services) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const credential = apiKeyOf(request);
    if (!credential) throw new AppError('unauthorized', 'missing x-api-key header (or Authorization: Bearer <API key>)');
    request.auth = await byApiKey(services, request, credential.apiKey, credential.bearer);
  };
}

/** preValidation hook (needs the raw body): API key, or a LiveKit signature over the body, bound to the path's room. */
export function requireAgent(services: Services) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const credential = apiKeyOf(request);
    if (credential) {
      request.auth = await byApiKey(services, request, credential.apiKey, credential.bearer);
      return;
    }
    const authorization = header(request, 'authorization');
    if (!authorization) throw new AppError('unauthorized', 'send x-api-key, or a LiveKit signature in Authorization');
    const project = await services.projects.forToken(authorization);
    if (!project) {
      throw new AppError(
        'unauthorized',
        services.signature
          ? 'invalid LiveKit signature: signed by an API key livecalls does not know'
          : 'LiveKit signatures are not accepted: LIVEKIT_API_KEY/SECRET are not configured (until then only `livecalls simulate` is accepted)',
      );
    }
    const claims = await project.signature.verify(request.rawBody ?? '', authorization);
    const room = claims.video?.room;
    if (!room) {
      throw new AppError(
        'unauthorized',
        "the LiveKit token names no room: add the room grant (`at.addGrant({ room: roomName })`) and send it to that room's events route",
      );
    }
    const { roomName } = request.params as { roomName?: string };
    if (room !== roomName) throw new AppError('forbidden', 'this LiveKit token is for another room');
    request.auth = await signedWorkspace(services, request, room, project);
  };
}

/** The workspace of a signed agent request for `roomName` (see the module). */
async function signedWorkspace(
  services: Services,
  request: FastifyRequest,
  roomName: string,
  project: LiveKitProject,
): Promise<AuthContext> {
  const principal = `livekit:${project.apiKey}`;
  const named = header(request, 'x-workspace-id');
  const proven = (workspaceId: string, roomSid: string): AuthContext => {
    if (named && named !== workspaceId) throw new AppError('forbidden', 'the room belongs to another workspace');
    return { workspaceId, principal, ownerProven: true, ...(roomSid ? { roomSid } : {}) };
  };
  // Rooms of this project only: a name means nothing across projects. A finished room's record says nothing
  // of a new room of the same name.
  const owner = await services.ownership.owner(project.apiKey, roomName);
  if (owner && !owner.ended) return proven(owner.workspaceId, owner.roomSid);
  // Not bound (its webhooks may still be on their way): LiveKit's own ListRooms can say.
  const control = project.control;
  const room = control ? await control.getRoom(roomName) : undefined;
  const listed = room ? parseRoomMetadata(room.metadata).workspaceId : null;
  if (
    control &&
    room &&
    listed &&
    (await services.stores.tenants.getWorkspace(listed)) &&
    (await services.projects.mayTouch(listed, project.apiKey))
  ) {
    await adoptListedRoom(services.calls, control, listed, room, project.apiKey, services.clock());
    return proven(listed, room.sid);
  }
  if (!named) {
    throw new AppError(
      'invalid_request',
      'LiveKit has not bound this room to a workspace yet: send x-workspace-id (the call stays unverified until LiveKit confirms it)',
      { field: 'headers.x-workspace-id' },
    );
  }
  if (!(await services.stores.tenants.getWorkspace(named)) || !(await services.projects.mayTouch(named, project.apiKey))) {
    throw new AppError('forbidden', 'this LiveKit project does not serve that workspace');
  }
  return { workspaceId: named, principal, ownerProven: false };
}

export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new AppError('unauthorized', 'not authenticated');
  return request.auth;
}
