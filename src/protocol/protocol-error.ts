/**
 * The one error type of the public and admin APIs (after oidc-provider's `errors.js` and fosite's
 * `errors.go`): an HTTP status, the wire code, a description safe to show the caller, and a
 * private detail that only reaches the log. Profile renderers turn it into each wire shape.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unsupported_token_type',
  'invalid_client',
  'not_found',
  'method_not_allowed',
  'not_acceptable',
  'too_many_requests',
  'server_error',
  'bad_gateway',
  'gateway_timeout',
  'temporarily_unavailable',
  // CDR only (422): the arrangement is unknown or not the caller's.
  'invalid_arrangement',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolErrorOptions {
  /** Private: logged, never sent. */
  detail?: string;
  headers?: Record<string, string>;
  /** Correlates a 401 body with the log line that holds the real cause (docs/api.md §2, §10). */
  clientAuthId?: string;
  /** A required parameter is absent (CDR distinguishes Field/Missing from Field/Invalid). */
  missing?: boolean;
}

export class ProtocolError extends Error {
  readonly detail?: string;
  readonly headers: Record<string, string>;
  readonly clientAuthId?: string;
  readonly missing: boolean;

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly description: string,
    options: ProtocolErrorOptions = {},
  ) {
    super(description);
    this.name = 'ProtocolError';
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.clientAuthId = options.clientAuthId;
    this.missing = options.missing ?? false;
  }

  static missingParameter(name: string): ProtocolError {
    return new ProtocolError(400, 'invalid_request', `${name} is required`, { missing: true });
  }

  static invalidRequest(description: string, detail?: string): ProtocolError {
    return new ProtocolError(400, 'invalid_request', description, { detail });
  }

  static notFound(description = 'not found'): ProtocolError {
    return new ProtocolError(404, 'not_found', description);
  }

  /** RFC 7009 §2.2.1: the client must not assume the token was revoked and should retry. */
  static temporarilyUnavailable(detail: string, retryAfterSeconds = 2): ProtocolError {
    return new ProtocolError(503, 'temporarily_unavailable', 'the service is temporarily unavailable, retry later', {
      detail,
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }

  static serverError(detail: string): ProtocolError {
    return new ProtocolError(500, 'server_error', 'internal server error', { detail });
  }
}
