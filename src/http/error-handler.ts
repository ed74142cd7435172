/**
 * The one place errors become HTTP. Envelope: `{"error": {"code", "message", "field"?, "requestId"}}`, and the
 * response's `x-request-id`. A 400 names the field at fault; a 5xx never carries internals (they go to the log,
 * once, with the stack and the request id). Errors Fastify and Node raise before a route runs (a bad URL, a
 * too-long path, malformed HTTP, oversized headers) answer in the same envelope.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.ts';

/** The methods the API has routes for: what a 405's `Allow` may list. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; requestId?: string; [extra: string]: unknown };
}

/** Fastify's own error codes -> ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_request',
};

/** Messages of our own for Fastify's errors whose text names no remedy. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content-type; send application/json',
  FST_ERR_MAX_PARAM_LENGTH: 'the URL path is too long (a room name is at most 128 characters)',
  FST_ERR_BAD_URL: 'the URL is not valid (a malformed percent-encoding)',
};

export function toAppError(err: FastifyError | AppError | Error): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const where = (err as FastifyError).validationContext ?? 'body';
    const path = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '';
    const field = path ? `${where}.${path}` : where;
    return new AppError('invalid_request', `${field}: ${first?.message ?? 'invalid value'}`, { field, cause: err });
  }
  const fastifyCode = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const code = fastifyCode ? FASTIFY_CODES[fastifyCode] : undefined;
  if (fastifyCode && code) return new AppError(code, FASTIFY_MESSAGES[fastifyCode] ?? err.message, { cause: err });
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status === 429) return new AppError('rate_limit_exceeded', err.message, { cause: err });
  if (status === 413) return new AppError('payload_too_large', err.message, { cause: err });
  if (status === 415)
    return new AppError('unsupported_media_type', FASTIFY_MESSAGES.FST_ERR_CTP_INVALID_MEDIA_TYPE ?? err.message, { cause: err });
  if (status >= 400 && status < 500) return new AppError('invalid_request', err.message, { cause: err });
  return new AppError('internal_error', 'internal error', { cause: err });
}

export function errorBody(err: AppError, requestId?: string): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.field) body.error.field = err.field;
  if (err.extra) Object.assign(body.error, err.extra);
  if (requestId) body.error.requestId = requestId;
  return body;
}

function sendError(err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(err);
  if (appError.status >= 500) {
    request.log.error({ err, code: appError.code }, 'request failed');
  } else {
    request.log.info({ code: appError.code, reason: appError.message }, 'request refused');
  }
  void reply.header('x-request-id', request.id).status(appError.status).send(errorBody(appError, request.id));
}

/**
 * Fastify options that route its own early errors here: `frameworkErrors` (bad URL, too-long path) and
 * `clientErrorHandler` (HTTP Node could not parse, headers too large, a request that timed out).
 * Node refuses an HTTP/1.1 request without `Host` with an empty 400 of its own, so that check is left to
 * `registerErrorHandling`, which answers it in the envelope.
 */
export const errorHandlingOptions = {
  frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendError(err, request, reply),
  clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
    // A reset connection has nothing left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code: ErrorCode =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? 'header_fields_too_large'
          : 'invalid_request';
    const message =
      code === 'request_timeout'
        ? 'the request was not received in time'
        : code === 'header_fields_too_large'
          ? 'the request headers are too large'
          : 'the request is not valid HTTP';
    const requestId = randomUUID();
    const status = ERROR_STATUS[code];
    const body = JSON.stringify(errorBody(new AppError(code, message), requestId));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  },
} satisfies Partial<FastifyServerOptions>;

/** Node's own options for the server (see `errorHandlingOptions` on `Host`). */
export const httpServerOptions = { requireHostHeader: false };

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => sendError(err, request, reply));
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && request.headers.host === undefined) {
      throw new AppError('invalid_request', 'an HTTP/1.1 request needs a Host header', { field: 'headers.host' });
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    // A route that exists for this method may still find nothing (an unknown dashboard file): that is a 404.
    if (allowed.length > 0 && !allowed.includes(request.method as (typeof METHODS)[number])) {
      void reply.header('allow', allowed.join(', '));
      sendError(
        new AppError('method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`),
        request,
        reply,
      );
      return;
    }
    sendError(new AppError('not_found', `no route for ${request.method} ${path}`), request, reply);
  });
}
