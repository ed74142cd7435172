/**
 * The one place errors become HTTP. Envelope: `{"error": {"code", "message", "field"?}}`. A 400 names the
 * field at fault; a 5xx never carries internals (they go to the log with the request id).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from '../errors.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; [extra: string]: unknown };
}

/** Fastify's own error codes -> ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_request',
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
  const code = 'code' in err && typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
  if (code) return new AppError(code, err.message, { cause: err });
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status === 429) return new AppError('rate_limit_exceeded', err.message, { cause: err });
  if (status === 413) return new AppError('payload_too_large', err.message, { cause: err });
  if (status === 415) return new AppError('unsupported_media_type', err.message, { cause: err });
  if (status >= 400 && status < 500) return new AppError('invalid_request', err.message, { cause: err });
  return new AppError('internal_error', 'internal error', { cause: err });
}

export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.field) body.error.field = err.field;
  if (err.extra) Object.assign(body.error, err.extra);
  return body;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(err);
    if (appError.status >= 500) {
      request.log.error({ err, code: appError.code }, 'request failed');
    } else {
      request.log.info({ code: appError.code, reason: appError.message }, 'request refused');
    }
    void reply.status(appError.status).send(errorBody(appError));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`)));
  });
}
