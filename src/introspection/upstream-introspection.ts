import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import type { IntrospectionOverlayConfig } from '../config/config';
import type { TokenType } from '../revocation/token-types';
import { formEncode, postForm } from '../upstream/upstream-client';
import { upstreamBreaker, UpstreamFailure } from '../upstream/upstream-outcome';

/** What the upstream said of an active token (RFC 7662 §2.2), and what the gateway reads of it. */
export interface UpstreamActive {
  /** The answer as the upstream sent it: introspection passes it on unchanged (docs/api.md §11.4). */
  readonly answer: Readonly<Record<string, unknown>>;
  readonly clientId?: string;
  readonly tokenType: TokenType;
  readonly exp?: number;
  /** Bytes of the answer: a large one is not kept in memory. */
  readonly size: number;
}

/** An upstream call waits for no other: past this many at once the request is a 503, not a queue that turns into timeouts. */
export const MAX_UPSTREAM_INTROSPECTIONS = 64;

/** The upstream is asked as many questions at once as this process allows (a 503 to retry, never a breaker failure). */
export class UpstreamIntrospectionBusy extends Error {
  constructor() {
    super(`${MAX_UPSTREAM_INTROSPECTIONS} upstream introspections in flight`);
    this.name = 'UpstreamIntrospectionBusy';
  }
}

/**
 * The upstream authorization server's introspection endpoint (docs/api.md §11.4, RFC 7662), for
 * tokens the gateway does not know: HTTP Basic with the gateway's upstream credentials, the
 * caller's interaction id, UPSTREAM_TIMEOUT_MS from connect to last byte, behind a circuit breaker
 * of its own (the same thresholds as propagation's). Its failures map as docs/api.md §6 says
 * (UpstreamFailure: timeout, 503, 429 → 504; anything else untrustworthy → 502), never to an
 * answer. Only a 200 with a JSON object whose `active` is a boolean is an answer.
 */
export class UpstreamIntrospection {
  private readonly agent: Agent;
  private readonly authorization: string;
  private readonly breaker: CircuitBreakerPolicy;
  /** Questions in flight, by token: the same token asked twice at once is asked upstream once. */
  private readonly inFlight = new Map<string, Promise<UpstreamActive | undefined>>();

  constructor(
    private readonly config: IntrospectionOverlayConfig,
    private readonly logger: Logger,
  ) {
    const timeout = config.timeoutMs;
    this.agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, connections: 64 });
    // RFC 6749 §2.3.1: id and secret are form-encoded, then joined by a colon.
    this.authorization = `Basic ${Buffer.from(`${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`).toString('base64')}`;
    this.breaker = upstreamBreaker(config.breaker, logger, 'upstream introspection');
  }

  /** The upstream's answer: active (with what it says), or undefined for inactive; throws UpstreamFailure or UpstreamIntrospectionBusy. */
  introspect(token: string, interactionId: string): Promise<UpstreamActive | undefined> {
    const pending = this.inFlight.get(token);
    if (pending) return pending;
    if (this.inFlight.size >= MAX_UPSTREAM_INTROSPECTIONS) return Promise.reject(new UpstreamIntrospectionBusy());
    const question = this.ask(token, interactionId).finally(() => this.inFlight.delete(token));
    this.inFlight.set(token, question);
    return question;
  }

  private async ask(token: string, interactionId: string): Promise<UpstreamActive | undefined> {
    try {
      return await this.breaker.execute(() => this.call(token, interactionId));
    } catch (error) {
      const failure =
        error instanceof UpstreamFailure
          ? error
          : error instanceof BrokenCircuitError
            ? new UpstreamFailure('circuit_open', 'upstream introspection circuit open')
            : new UpstreamFailure('connection_error', `upstream introspection failed (${(error as Error).name})`);
      this.logger.warn({ interaction_id: interactionId, outcome: failure.outcome, err: failure.detail }, 'upstream introspection failed');
      throw failure;
    }
  }

  /** At the gateway's close, after both listeners (src/gateway.ts). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }

  private async call(token: string, interactionId: string): Promise<UpstreamActive | undefined> {
    const headers = { authorization: this.authorization, 'x-fapi-interaction-id': interactionId };
    const { status, body } = await postForm(this.config.url, this.agent, this.config.timeoutMs, headers, new URLSearchParams({ token }).toString());
    return readIntrospectionAnswer(status, body, Date.now() / 1000);
  }
}

/** NumericDates the gateway can represent (RFC 7519 §2): from 1970 to the year 9999. */
const LATEST_NUMERIC_DATE = 253402300799;

/**
 * RFC 7662 §2.2 as the gateway trusts it: 200 and a JSON object with a boolean `active`. docs/api.md
 * §6 for the rest: 429 and 503 say "later" (504), other 5xx, 4xx (our credentials refused, or a
 * request the upstream did not take) and any other body are a broken upstream (502). A 4xx
 * answers one request: it does not open the circuit. An active answer whose `exp` has passed, or
 * whose `nbf` has not come, is inactive (docs/api.md §11.2: an expired token is inactive,
 * whoever says otherwise); one whose `exp`, `iat` or `nbf` is not a date is a broken upstream.
 */
export function readIntrospectionAnswer(status: number, body: string, now: number): UpstreamActive | undefined {
  if (status === 429) throw new UpstreamFailure('throttled', 'upstream introspection answered 429');
  if (status === 503) throw new UpstreamFailure('unavailable', 'upstream introspection answered 503');
  if (status >= 500) throw new UpstreamFailure('server_error', `upstream introspection answered ${status}`);
  if (status >= 400) throw new UpstreamFailure('unexpected_response', `upstream introspection answered ${status}`, status === 401);
  if (status !== 200) throw new UpstreamFailure('unexpected_response', `upstream introspection answered ${status}`);
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    throw new UpstreamFailure('unexpected_response', 'upstream introspection answered 200 without JSON');
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer) || typeof (answer as { active?: unknown }).active !== 'boolean') {
    throw new UpstreamFailure('unexpected_response', 'upstream introspection answered 200 without a boolean "active"');
  }
  const fields = answer as Record<string, unknown>;
  if (fields.active !== true) return undefined;
  for (const name of ['exp', 'iat', 'nbf']) {
    const value = fields[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > LATEST_NUMERIC_DATE)) {
      throw new UpstreamFailure('unexpected_response', `upstream introspection answered an "${name}" that is not a NumericDate`);
    }
  }
  const exp = fields.exp as number | undefined;
  if ((exp !== undefined && exp <= now) || (fields.nbf !== undefined && (fields.nbf as number) > now)) return undefined;
  return {
    answer: fields,
    ...(typeof fields.client_id === 'string' && fields.client_id !== '' ? { clientId: fields.client_id } : {}),
    tokenType: isRefreshToken(fields) ? 'refresh_token' : 'access_token',
    ...(exp !== undefined ? { exp } : {}),
    size: Buffer.byteLength(body),
  };
}

/**
 * RFC 7662 names no member for "this is a refresh token"; servers say it in `token_type`,
 * `token_use` or `typ` (`refresh_token`, `Refresh`, `urn:ietf:params:oauth:token-type:refresh_token`).
 * Any of them mentioning a refresh token makes it one: the check never lets one through.
 */
function isRefreshToken(fields: Record<string, unknown>): boolean {
  return [fields.token_type, fields.token_use, fields.typ].some((value) => typeof value === 'string' && /refresh/i.test(value));
}
