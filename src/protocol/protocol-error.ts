/**
 * The one error type of the public and admin APIs (after oidc-provider's `errors.js` and fosite's
 * `errors.go`): the wire code, a description safe to show the caller, and a private detail that
 * only reaches the log. Profile renderers turn it into each wire shape.
 *
 * docs/api.md §2: each wire code has one HTTP status, written once here, so a pair such as
 * `500 invalid_request` cannot be constructed. The only other statuses are the transport's own
 * refusals (`ProtocolError.transport`), which are all `invalid_request`.
 */
export const STATUS_OF_CODE = {
  invalid_request: 400,
  unsupported_token_type: 400,
  invalid_client: 401,
  // RFC 6750 §3.1, the enforcement check (docs/api.md §11.5): the access token does not stand.
  invalid_token: 401,
  // The enforcement check's caller is not the configured one (docs/api.md §11.5).
  access_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  // CDR only: the arrangement is unknown or not the caller's.
  invalid_arrangement: 422,
  too_many_requests: 429,
  server_error: 500,
  bad_gateway: 502,
  temporarily_unavailable: 503,
  gateway_timeout: 504,
} as const satisfies Record<string, number>;
export type ErrorCode = keyof typeof STATUS_OF_CODE;
export const ERROR_CODES = Object.keys(STATUS_OF_CODE) as readonly ErrorCode[];

/**
 * Refusals of the HTTP layer, before a route is chosen: a malformed request line or headers (400),
 * a body that never finishes (408), one too large (413), an unsupported `Expect` (417), headers
 * too large (431). Their code is always `invalid_request`.
 */
export type TransportStatus = 400 | 408 | 413 | 417 | 431;

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
  #status: number;

  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    options: ProtocolErrorOptions = {},
  ) {
    super(description);
    this.name = 'ProtocolError';
    this.#status = STATUS_OF_CODE[code];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.clientAuthId = options.clientAuthId;
    this.missing = options.missing ?? false;
  }

  get status(): number {
    return this.#status;
  }

  /** A refusal of the HTTP layer (see TransportStatus). */
  static transport(status: TransportStatus, description: string, options: ProtocolErrorOptions = {}): ProtocolError {
    const error = new ProtocolError('invalid_request', description, options);
    error.#status = status;
    return error;
  }

  static missingParameter(name: string): ProtocolError {
    return new ProtocolError('invalid_request', `${name} is required`, { missing: true });
  }

  static invalidRequest(description: string, detail?: string): ProtocolError {
    return new ProtocolError('invalid_request', description, { detail });
  }

  static notFound(description = 'not found'): ProtocolError {
    return new ProtocolError('not_found', description);
  }

  /** RFC 7009 §2.2.1: the client must not assume the token was revoked and should retry. */
  static temporarilyUnavailable(detail: string, retryAfterSeconds = 2): ProtocolError {
    return new ProtocolError('temporarily_unavailable', 'the service is temporarily unavailable, retry later', {
      detail,
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }

  static serverError(detail: string): ProtocolError {
    return new ProtocolError('server_error', 'internal server error', { detail });
  }
}
