/**
 * Authentication. API routes take `x-api-key` + `x-workspace-id`; the key must belong to that workspace
 * (403 otherwise). The agent events route also takes a LiveKit-style signature (see ingest/signature.ts),
 * with the workspace named by `x-workspace-id`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

export interface AuthContext {
  workspaceId: string;
  /** The API key's id, or "livekit" for a LiveKit-signed request. */
  principal: string;
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

async function byApiKey(services: Services, request: FastifyRequest, apiKey: string): Promise<AuthContext> {
  const key = await services.stores.tenants.verifyKey(apiKey);
  if (!key) throw new AppError('unauthorized', 'invalid or revoked API key');
  const workspaceId = workspaceHeader(request);
  if (key.workspaceId !== workspaceId) throw new AppError('forbidden', 'this API key is not allowed on that workspace');
  return { workspaceId, principal: key.id };
}

/** onRequest hook: API key + workspace. */
export function requireApiKey(services: Services) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const apiKey = header(request, 'x-api-key');
    if (!apiKey) throw new AppError('unauthorized', 'missing x-api-key header');
    request.auth = await byApiKey(services, request, apiKey);
  };
}

/** preHandler hook (needs the raw body): API key, or a LiveKit signature over the body. */
export function requireAgent(services: Services) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const apiKey = header(request, 'x-api-key');
    if (apiKey) {
      request.auth = await byApiKey(services, request, apiKey);
      return;
    }
    const authorization = header(request, 'authorization');
    if (!authorization) throw new AppError('unauthorized', 'send x-api-key, or a LiveKit signature in Authorization');
    if (!services.signature)
      throw new AppError('unauthorized', 'LiveKit signatures are not accepted: LIVEKIT_API_KEY/SECRET are not configured');
    await services.signature.verify(request.rawBody ?? '', authorization);
    const workspaceId = workspaceHeader(request);
    if (!(await services.stores.tenants.getWorkspace(workspaceId))) throw new AppError('forbidden', 'unknown workspace');
    request.auth = { workspaceId, principal: 'livekit' };
  };
}

export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new AppError('unauthorized', 'not authenticated');
  return request.auth;
}
