/**
 * The OpenAPI document as generated from the routes' zod schemas, finished for readers and client
 * generators: every response says what it is (not "Default Response"), integers carry no ±2^53 bounds
 * (zod's safe-integer defaults, which read as "negative counts allowed"), the authentication schemes are
 * named once (one credential suffices: the API key as a bearer token), and the WebSocket route, which the
 * generator leaves out, is described.
 */
import { STATUS_CODES } from 'node:http';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The API key alone (`Authorization: Bearer lc_…`): it names its workspace. The one credential to enter here.',
  },
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The Active Calls API pair: the API key ...' },
  workspace: { type: 'apiKey', in: 'header', name: 'x-workspace-id', description: '... with the workspace id it belongs to' },
  livekit: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'A LiveKit-style JWT signed with the LiveKit API secret (issuer = the API key), with a `sha256` claim of the body; for agent events also the room grant `video.room`',
  },
} as const;

/** Either of the API-key forms: what most routes take. */
export const API_KEY_SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [], workspace: [] }];

const SAFE = Number.MAX_SAFE_INTEGER;

function tidySchemas(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(tidySchemas);
    return;
  }
  if (!isObject(node)) return;
  if (node.type === 'integer') {
    if (node.minimum === -SAFE) delete node.minimum;
    if (node.maximum === SAFE) delete node.maximum;
  }
  for (const value of Object.values(node)) tidySchemas(value);
}

const WS_PATH = '/v2/api/active-calls/ws';

export function finishOpenApi(doc: Json): Json {
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const ops of Object.values(paths)) {
    if (!isObject(ops)) continue;
    for (const op of Object.values(ops)) {
      if (!isObject(op) || !isObject(op.responses)) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        if (isObject(response) && (response.description === 'Default Response' || !response.description)) {
          response.description = STATUS_CODES[Number(status)] ?? 'Response';
        }
      }
    }
  }
  paths[WS_PATH] ??= {
    get: {
      tags: ['live'],
      summary: 'WebSocket: the same frames as the SSE stream, as JSON messages {event, id, data}',
      description:
        'Connect with `Upgrade: websocket`. Authenticate with the API key headers or `?token=` from POST /v2/api/stream-tokens (browsers cannot set headers on a WebSocket); resume with `?lastEventId=`. A plain GET answers 426. See docs/live-stream.md.',
      parameters: [
        { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'a stream token' },
        { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string' }, description: 'resume after this frame id' },
      ],
      responses: {
        101: { description: 'Switching Protocols: frames follow as WebSocket text messages' },
        401: { description: 'Unauthorized: no valid API key or stream token' },
        426: { description: 'Upgrade Required: a plain GET' },
      },
    },
  };
  doc.paths = paths;
  tidySchemas(doc);
  return doc;
}
