import { BrokenCircuitError, CircuitState, type CircuitBreakerPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import type { PendingPropagation } from '../revocation/revocation-engine';
import type { OutboxEntry } from '../revocation/revocation-store';
import type { TokenType } from '../revocation/token-types';
import { Outbox, retryDelay, type OutboxRow } from './outbox';
import type { Delivery, UpstreamClient } from './upstream-client';
import type { UpstreamConfig } from '../config/config';
import { upstreamBreaker, UpstreamFailure } from './upstream-outcome';
import type { TokenCipher } from './token-cipher';

/** Rows one worker round claims at a time. */
const BATCH = 32;
/** A row the open circuit kept from being tried is due again after this. */
const CIRCUIT_OPEN_DELAY_MS = 1000;

/** What settling a row needs: its id, the deliveries tried so far, and the claim that fences it. */
type Settleable = Pick<OutboxRow, 'id' | 'attempts' | 'claim'>;

/**
 * docs/api.md §6: revocations propagated to the upstream authorization server. Each one is first
 * made durable in the outbox by the revocation's own statement; then delivered at once for the
 * caller's answer, and otherwise by the worker, with backoff, until delivered or dead-lettered.
 *
 * A circuit breaker (cockatiel, consecutive failures) guards the callers: while it is open they
 * get 502 at once; after UPSTREAM_BREAKER_RESET_MS one call goes through as the probe and closes
 * it again on success. While the probe is out, other calls fail fast too (cockatiel would make
 * them wait for it, and a caller would then wait up to twice UPSTREAM_TIMEOUT_MS).
 *
 * The worker's deliveries count towards the circuit while it is closed. While it is open they go
 * out anyway, paced by each row's backoff, so that a first retry still comes within 5 s
 * (docs/api.md §6) whatever the reset time; one that succeeds shows the upstream is back and closes
 * the circuit at once.
 */
export class UpstreamPropagation {
  private breaker: CircuitBreakerPolicy;
  /**
   * How long a delivery owns its row: the timeout bounds a delivery, the margin covers the
   * settle and a stalled event loop. Beyond the lease another claimer may take the row.
   */
  readonly leaseMs: number;

  constructor(
    private readonly config: UpstreamConfig,
    private readonly client: UpstreamClient,
    private readonly outbox: Outbox,
    private readonly cipher: TokenCipher,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.breaker = this.closedBreaker();
    this.leaseMs = config.timeoutMs + 5000;
  }

  private closedBreaker(): CircuitBreakerPolicy {
    return upstreamBreaker(this.config.breaker, this.logger, 'upstream');
  }

  /** The outbox row the revocation statement writes for `token`. */
  entry(token: string, tenant: string, hint: TokenType | undefined): OutboxEntry {
    return { sealed: this.cipher.seal(token, tenant), hint: hint ?? null, leaseMs: this.leaseMs };
  }

  /**
   * The synchronous attempt, for the caller's answer: resolves when the upstream confirmed,
   * throws 502/504 (docs/api.md §6) otherwise. Either way the row is settled: deleted, or left to
   * the worker with its next attempt scheduled.
   */
  async deliverNow(pending: PendingPropagation, token: string, interactionId: string, knownHere: boolean): Promise<void> {
    const failure = await this.attempt(
      { id: pending.id, attempts: 1, claim: 1 },
      { token, tokenType: pending.tokenType, level: pending.level, interactionId },
      'breaker',
    );
    if (!failure) return;
    const kept = knownHere
      ? 'The token is revoked here; the upstream authorization server will be told as soon as it answers.'
      : 'The token is not known here; the upstream authorization server will be asked again as soon as it answers.';
    throw failure.status === 504
      ? new ProtocolError('gateway_timeout', `The upstream authorization server did not answer in time. ${kept}`, { detail: failure.detail })
      : new ProtocolError('bad_gateway', `The upstream authorization server could not be reached or answered wrongly. ${kept}`, { detail: failure.detail });
  }

  /** One worker round: claims due rows and delivers them, until none are due. Returns how many were tried. */
  async deliverDue(stopping: () => boolean): Promise<number> {
    let tried = 0;
    for (;;) {
      const rows = await this.outbox.claim(BATCH, this.leaseMs);
      await Promise.all(rows.map((row) => this.deliverRow(row)));
      tried += rows.length;
      if (rows.length < BATCH || stopping()) return tried;
    }
  }

  private async deliverRow(row: OutboxRow): Promise<void> {
    let token: string;
    try {
      token = this.cipher.open(row.sealed, row.tenant);
    } catch {
      // Sealed under another key (TOKEN_ENCRYPTION_KEY was changed) or altered: no retry can help.
      await this.settleFailure(row, new UpstreamFailure('unexpected_response', 'outbox token cannot be decrypted with TOKEN_ENCRYPTION_KEY'), true);
      return;
    }
    const via = this.breaker.state === CircuitState.Closed ? 'breaker' : 'direct';
    const failure = await this.attempt(row, { token, tokenType: row.tokenType, level: row.level, interactionId: row.interactionId }, via);
    if (!failure && via === 'direct' && this.breaker.state !== CircuitState.Closed) this.breaker = this.closedBreaker();
  }

  /** One delivery, through the breaker or past it; settles the row and returns the failure, if any. */
  private async attempt(row: Settleable, delivery: Delivery, via: 'breaker' | 'direct'): Promise<UpstreamFailure | undefined> {
    try {
      if (via === 'direct') {
        await this.client.revoke(delivery);
      } else {
        if (this.breaker.state === CircuitState.HalfOpen) throw new BrokenCircuitError();
        await this.breaker.execute(() => this.client.revoke(delivery));
      }
    } catch (error) {
      const failure =
        error instanceof UpstreamFailure
          ? error
          : error instanceof BrokenCircuitError
            ? new UpstreamFailure('circuit_open', 'upstream circuit open')
            : new UpstreamFailure('connection_error', `upstream call failed (${(error as Error).name})`);
      this.metrics.upstreamRequests.inc({ outcome: failure.outcome });
      this.logger.warn(
        { interaction_id: delivery.interactionId, outbox_id: row.id, attempts: row.attempts, outcome: failure.outcome, err: failure.detail },
        'upstream revocation failed',
      );
      await this.settleFailure(row, failure, false);
      return failure;
    }
    this.metrics.upstreamRequests.inc({ outcome: 'delivered' });
    await this.settle(() => this.outbox.delivered(row.id, row.claim), row);
    return undefined;
  }

  private async settleFailure(row: Settleable, failure: UpstreamFailure, hopeless: boolean): Promise<void> {
    if (failure.outcome === 'circuit_open') {
      await this.settle(() => this.outbox.released(row.id, row.claim, CIRCUIT_OPEN_DELAY_MS), row);
      return;
    }
    const dead = hopeless || row.attempts >= this.config.maxAttempts;
    await this.settle(() => this.outbox.failed(row.id, row.claim, retryDelay(row.attempts), failure.detail, dead), row);
    if (dead) {
      this.metrics.outboxDeadLetters.inc();
      this.logger.error({ outbox_id: row.id, attempts: row.attempts, err: failure.detail }, 'upstream revocation dead-lettered');
    }
  }

  /**
   * A row that cannot be settled (the database is away) keeps its lease and is picked up again
   * once the lease has passed: a delivery may then repeat, which revocation tolerates (RFC 7009
   * §2.2: revoking a revoked token succeeds), but never overlaps another.
   */
  private async settle(write: () => Promise<void>, row: Pick<OutboxRow, 'id'>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.logger.warn({ outbox_id: row.id, err: (error as Error).message }, 'outbox row could not be updated; it will be retried after its lease');
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
