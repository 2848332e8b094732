import { circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from 'pino';
/** How the upstream is spoken to (UPSTREAM_DIALECT, docs/api.md §6). */
export const UPSTREAM_DIALECTS = ['rfc7009', 'oam'] as const;
export type UpstreamDialect = (typeof UPSTREAM_DIALECTS)[number];

/** How one call to the upstream ended; the `outcome` label of revgw_upstream_requests_total. */
export type UpstreamOutcome =
  'delivered' | 'timeout' | 'throttled' | 'unavailable' | 'connection_error' | 'server_error' | 'unexpected_response' | 'circuit_open';

export type UpstreamFailureOutcome = Exclude<UpstreamOutcome, 'delivered'>;

/**
 * A delivery that did not succeed, with the status the caller gets (docs/api.md §6): the upstream is
 * slow or says "later" (timeout, 503, 429) → 504; it is broken or answered something we cannot
 * trust (connection failure, other 5xx, unexpected 4xx or body, open circuit) → 502.
 */
export class UpstreamFailure extends Error {
  readonly status: 502 | 504;

  constructor(
    readonly outcome: UpstreamFailureOutcome,
    /** Private: for the log and the outbox row, never for the caller. Holds no token. */
    readonly detail: string,
    /**
     * Whether the failure says the upstream is down or unusable for everyone, and so counts
     * towards opening the circuit. An answer about one request (a 400 or 404 for one token) does
     * not: otherwise any client could open the circuit for all with a handful of odd tokens.
     */
    readonly tripsBreaker = true,
  ) {
    super(detail);
    this.name = 'UpstreamFailure';
    this.status = outcome === 'timeout' || outcome === 'throttled' || outcome === 'unavailable' ? 504 : 502;
  }
}

/**
 * Reads an upstream answer (status and body, already bounded in size). Throws UpstreamFailure for
 * anything but a success of the dialect:
 * - `rfc7009`: any 2xx whose body is empty or a JSON value without an `error` member. RFC 7009
 *   §2.2 makes the body meaningless on success, but an HTML page or an `{"error":...}` under 200
 *   means something between us and the server (a portal, a proxy) answered, not the server.
 * - `oam`: 200-299 with `{"status":"success"}`, the answer OAM's REST revocation gives.
 */
export function readUpstreamAnswer(dialect: UpstreamDialect, status: number, body: string): void {
  if (status === 429) throw new UpstreamFailure('throttled', 'upstream answered 429');
  if (status === 503) throw new UpstreamFailure('unavailable', 'upstream answered 503');
  if (status >= 500) throw new UpstreamFailure('server_error', `upstream answered ${status}`);
  if (status >= 400 && status !== 401) throw new UpstreamFailure('unexpected_response', `upstream answered ${status}`, false);
  // 401 (our own credentials refused), 3xx (redirects are not followed) and 1xx say nothing about one token.
  if (status < 200 || status > 299) throw new UpstreamFailure('unexpected_response', `upstream answered ${status}`);
  const json = parseJson(body);
  const delivered =
    dialect === 'oam' ? isObject(json) && json.status === 'success' : body.trim() === '' || (json !== undefined && !(isObject(json) && 'error' in json));
  if (!delivered) throw new UpstreamFailure('unexpected_response', `upstream answered ${status} with an unexpected body`);
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * docs/api.md §6: the circuit breaker of an upstream call (propagation, the introspection
 * overlay): it opens after `failures` consecutive failures that say the upstream is unusable
 * (`tripsBreaker`) and half-opens after `resetMs`; `what` names it in the log.
 */
export function upstreamBreaker(breaker: { readonly failures: number; readonly resetMs: number }, logger: Logger, what: string): CircuitBreakerPolicy {
  const policy = circuitBreaker(
    handleWhen((error) => error instanceof UpstreamFailure && error.tripsBreaker),
    { halfOpenAfter: breaker.resetMs, breaker: new ConsecutiveBreaker(breaker.failures) },
  );
  policy.onBreak(() => logger.warn({ failures: breaker.failures }, `${what} circuit opened`));
  policy.onReset(() => logger.info(`${what} circuit closed`));
  return policy;
}
