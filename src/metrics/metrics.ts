import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AUTH_METHODS } from '../client-auth/credentials';
import { CUSTOMER_USER_AGENT, FAPI_AUTH_DATE, FAPI_CUSTOMER_IP } from '../fapi/fapi-headers';
import { INTERACTION_ID_HEADER } from '../protocol/interaction-id';
import { AUTHZ_CHECK_PROFILE } from '../authz/check-route';
import { PROFILE_NAMES } from '../protocol/profiles';
import type { UpstreamOutcome } from '../upstream/upstream-outcome';

export const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = [
  'delivered',
  'timeout',
  'throttled',
  'unavailable',
  'connection_error',
  'server_error',
  'unexpected_response',
  'circuit_open',
];

/** `profile` label of the HTTP metrics: a profile's route, or `other` (metadata, OpenAPI, unknown paths). */
export const HTTP_PROFILE_LABELS = [...PROFILE_NAMES, AUTHZ_CHECK_PROFILE, 'other'] as const;
/** `cause` label of revgw_tokens_revoked_total. */
export type RevocationCause = 'requested' | 'cascade' | 'admin';
/** A request whose credentials could not even be read has no method. */
export const AUTH_FAILURE_METHODS = [...AUTH_METHODS, 'unreadable'] as const;
export const FAPI_HEADERS = [INTERACTION_ID_HEADER, FAPI_AUTH_DATE, FAPI_CUSTOMER_IP, CUSTOMER_USER_AGENT] as const;

/**
 * The gateway's Prometheus metrics (docs/api.md §10), one registry per gateway so that two gateways
 * in one process (tests, replicas) never share counters. Every metric is declared here, at start,
 * so its `# TYPE` line is on /metrics before the first sample, and its label values are known
 * ones, pre-set to 0 where the set is small: no client id, token, tenant or address ever becomes
 * a label, so cardinality stays bounded whatever callers send.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'revgw_http_requests_total',
    help: 'Public API requests answered, by profile and numeric status.',
    labelNames: ['profile', 'status'] as const,
    registers: [this.registry],
  });

  /**
   * A revocation is a few milliseconds of work: buckets resolve 1–50 ms, then a coarse tail up to
   * the longest a request may legitimately take (database and upstream timeouts, up to 60 s), so a
   * p99 stays measurable during exactly the incidents that matter.
   */
  readonly httpDuration = new Histogram({
    name: 'revgw_http_request_duration_seconds',
    help: 'Public API request duration, from the first byte read to the last byte written.',
    labelNames: ['profile'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** Group commit at work: how many revocations shared one statement (1 at low load). */
  readonly revocationBatchSize = new Histogram({
    name: 'revgw_revocation_batch_size',
    help: 'Revocations per statement when several were waiting (group commit); requests that went alone are not observed.',
    buckets: [2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly tokensRevoked = new Counter({
    name: 'revgw_tokens_revoked_total',
    help: 'Tokens newly revoked: the token a request named (requested), those revoked with it (cascade), or by an admin bulk revocation (admin).',
    labelNames: ['token_type', 'cause'] as const,
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'revgw_throttled_requests_total',
    help: 'Requests refused with 429, by budget.',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly clientAuthFailures = new Counter({
    name: 'revgw_client_auth_failures_total',
    help: 'Failed client authentications, by the method the client attempted.',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  readonly fapiHeaderRejections = new Counter({
    name: 'revgw_fapi_header_rejections_total',
    help: 'Requests refused with 400 for a malformed FAPI header, by header.',
    labelNames: ['header'] as const,
    registers: [this.registry],
  });

  /** docs/api.md §11.2: every introspection answered 200, by what it said. */
  readonly introspections = new Counter({
    name: 'revgw_introspections_total',
    help: 'Introspection answers (RFC 7662), by whether the token was active.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** docs/api.md §11.5: every enforcement check, by its decision (`error`: a 5xx, the gateway in front denies). */
  readonly authzChecks = new Counter({
    name: 'revgw_authz_checks_total',
    help: 'Enforcement checks (/authz/check), by decision: allow (200), deny (401, 403) or error (5xx).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** docs/api.md §11.6: lookups of introspection and the check, by what the token status cache did. */
  readonly tokenStatusLookups = new Counter({
    name: 'revgw_token_status_lookups_total',
    help: 'Token lookups of introspection and the check: hit (memory), miss (the database, then kept) or bypass (the database: the change feed is down or the cache off).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** 1 while the change feed from PostgreSQL listens, 0 while it does not (memory is not used then). */
  readonly tokenStatusFeedUp = new Gauge({
    name: 'revgw_token_status_feed_up',
    help: 'Whether this replica hears every revocation as it commits (1), so that it may answer from memory.',
    registers: [this.registry],
  });

  readonly upstreamRequests = new Counter({
    name: 'revgw_upstream_requests_total',
    help: 'Revocations sent to the upstream authorization server (or refused by the open circuit), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /**
   * docs/api.md §10, §12: security event tokens and their receivers. Outcomes: push `delivered`
   * (a 2xx), `rejected` (a 4xx, not retried), `retried` (anything else); poll `acknowledged`,
   * `error` (in `setErrs`); both `expired` (past SSF_RETENTION_S).
   */
  readonly setDeliveries = new Counter({
    name: 'revgw_set_deliveries_total',
    help: 'Security event tokens delivered to receivers, by delivery method (push, poll) and outcome.',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Filled at scrape time by the transmitter (see `observeSets`). */
  private pendingSets?: () => Promise<number>;

  readonly setPending: Gauge = new Gauge({
    name: 'revgw_set_pending',
    help: 'Security event tokens written and not yet delivered or acknowledged.',
    registers: [this.registry],
    collect: () => this.collect(this.setPending, this.pendingSets),
  });

  readonly setDeliveryLag = new Histogram({
    name: 'revgw_set_delivery_lag_seconds',
    help: "From the revocation's commit to the receiver's acknowledgement of its security event token.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly outboxDeadLetters = new Counter({
    name: 'revgw_outbox_dead_letters_total',
    help: 'Outbox rows given up after UPSTREAM_OUTBOX_MAX_ATTEMPTS deliveries.',
    registers: [this.registry],
  });

  /** Filled at scrape time by whoever owns the outbox (see `observeOutbox`). */
  private outboxCounts?: () => Promise<{ pending: number; dead: number }>;

  readonly outboxPending: Gauge = new Gauge({
    name: 'revgw_outbox_pending',
    help: 'Revocations waiting in the outbox for delivery upstream (dead letters excluded).',
    registers: [this.registry],
    collect: () => this.collectOutbox('pending', this.outboxPending),
  });

  readonly outboxDead: Gauge = new Gauge({
    name: 'revgw_outbox_dead',
    help: 'Dead-lettered outbox rows waiting for an operator.',
    registers: [this.registry],
    collect: () => this.collectOutbox('dead', this.outboxDead),
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const scope of ['ip', 'client']) this.throttled.inc({ scope }, 0);
    for (const result of ['active', 'inactive']) this.introspections.inc({ result }, 0);
    for (const result of ['allow', 'deny', 'error']) this.authzChecks.inc({ result }, 0);
    for (const result of ['hit', 'miss', 'bypass']) this.tokenStatusLookups.inc({ result }, 0);
    for (const outcome of ['delivered', 'rejected', 'retried', 'expired']) this.setDeliveries.inc({ method: 'push', outcome }, 0);
    for (const outcome of ['acknowledged', 'error', 'expired']) this.setDeliveries.inc({ method: 'poll', outcome }, 0);
    for (const outcome of UPSTREAM_OUTCOMES) this.upstreamRequests.inc({ outcome }, 0);
    for (const method of AUTH_FAILURE_METHODS) this.clientAuthFailures.inc({ method }, 0);
    for (const header of FAPI_HEADERS) this.fapiHeaderRejections.inc({ header }, 0);
    for (const token_type of ['access_token', 'refresh_token']) {
      for (const cause of ['requested', 'cascade', 'admin']) this.tokensRevoked.inc({ token_type, cause }, 0);
    }
  }

  /** Counts what one revocation revoked, by type; `presented` is the named token's type when it was among them. */
  revoked(counts: { access: number; refresh: number }, cause: 'admin' | { presented: 'access_token' | 'refresh_token' | null }): void {
    const split = (type: 'access_token' | 'refresh_token', total: number) => {
      if (total === 0) return;
      if (cause === 'admin') return this.tokensRevoked.inc({ token_type: type, cause: 'admin' }, total);
      const requested = cause.presented === type ? 1 : 0;
      if (requested) this.tokensRevoked.inc({ token_type: type, cause: 'requested' }, 1);
      if (total > requested) this.tokensRevoked.inc({ token_type: type, cause: 'cascade' }, total - requested);
    };
    split('access_token', counts.access);
    split('refresh_token', counts.refresh);
  }

  observeOutbox(counts: () => Promise<{ pending: number; dead: number }>): void {
    this.outboxCounts = counts;
  }

  observeSets(pending: () => Promise<number>): void {
    this.pendingSets = pending;
  }

  /** One small query per gauge and scrape, so each value is current when it is read. */
  private collectOutbox(which: 'pending' | 'dead', gauge: Gauge): Promise<void> {
    const counts = this.outboxCounts;
    return this.collect(gauge, counts && (async () => (await counts())[which]));
  }

  private async collect(gauge: Gauge, read: (() => Promise<number>) | undefined): Promise<void> {
    if (!read) return gauge.set(0);
    try {
      gauge.set(await read());
    } catch {
      // The database is away: keep the last value; /health/ready reports the outage.
    }
  }
}
