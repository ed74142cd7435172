/**
 * The typed errors of livecalls. Code raises `AppError` with a stable lower_snake_case code; the HTTP error
 * handler is the one place that maps codes to status codes and the JSON envelope.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limit_exceeded: 429,
  too_many_calls: 429,
  header_fields_too_large: 431,
  internal_error: 500,
  livekit_error: 502,
  call_control_not_configured: 503,
  webhooks_not_configured: 503,
  livekit_unavailable: 503,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** The request field at fault, for 400s. */
  readonly field: string | undefined;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, opts: { field?: string; cause?: unknown; extra?: Record<string, unknown> } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.field = opts.field;
    this.extra = opts.extra;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
