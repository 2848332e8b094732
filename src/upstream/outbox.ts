import type { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import type { RevocationLevel } from '../revocation/levels';
import type { TokenType } from '../revocation/token-types';

/** A claimed outbox row; `attempts` counts this delivery, `claim` fences it (see the migration). */
export interface OutboxRow {
  readonly id: string;
  readonly tenant: string;
  readonly sealed: Buffer;
  readonly tokenType: TokenType | null;
  readonly level: RevocationLevel | null;
  readonly interactionId: string;
  readonly attempts: number;
  readonly claim: number;
}

/**
 * Claims due rows for one delivery each: `FOR UPDATE SKIP LOCKED` lets replicas claim disjoint
 * rows without waiting on each other, and the lease (next_attempt_at moved past the delivery's
 * longest possible duration) keeps any other claimer — a replica's worker, or this one's next
 * round — away until the delivery has settled the row. The lock lasts one statement only: no
 * transaction stays open across an HTTP call. Times are `clock_timestamp()`, not `now()`: a
 * statement that waited on a lock must not start its lease in the past.
 */
const CLAIM_SQL = `
WITH due AS (
  SELECT id FROM upstream_outbox
   WHERE dead_at IS NULL AND next_attempt_at <= clock_timestamp()
   ORDER BY next_attempt_at
   LIMIT $1
   FOR UPDATE SKIP LOCKED
)
UPDATE upstream_outbox o
   SET attempts = o.attempts + 1, claim = o.claim + 1, next_attempt_at = clock_timestamp() + $2::int * interval '1 millisecond'
  FROM due WHERE o.id = due.id
RETURNING o.id::text AS id, o.tenant, o.sealed_token, o.token_type, o.level, o.interaction_id, o.attempts, o.claim`;

/** Delivered: the row has done its job (docs/api.md §6 "until delivered"). */
const DELIVERED_SQL = `DELETE FROM upstream_outbox WHERE id = $1 AND claim = $2`;

/** Not delivered: try again after `delay`, or (dead) keep the row for an operator and stop trying. */
const FAILED_SQL = `
UPDATE upstream_outbox
   SET next_attempt_at = clock_timestamp() + $3::int * interval '1 millisecond', last_error = $4,
       dead_at = CASE WHEN $5::boolean THEN clock_timestamp() END
 WHERE id = $1 AND claim = $2`;

/** Not attempted (the circuit was open): give the attempt back (the claim stays counted). */
const RELEASED_SQL = `
UPDATE upstream_outbox SET attempts = attempts - 1, next_attempt_at = clock_timestamp() + $3::int * interval '1 millisecond'
 WHERE id = $1 AND claim = $2`;

const COUNTS_SQL = `
SELECT count(*) FILTER (WHERE dead_at IS NULL)::int AS pending, count(*) FILTER (WHERE dead_at IS NOT NULL)::int AS dead
  FROM upstream_outbox`;

/** The outbox table behind a narrow interface; rows are written by the revocation statement itself. */
export class Outbox {
  private readonly statements: PreparedStatements;

  constructor(db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async claim(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const rows = await this.statements.run<{
      id: string;
      tenant: string;
      sealed_token: Buffer;
      token_type: TokenType | null;
      level: RevocationLevel | null;
      interaction_id: string;
      attempts: number;
      claim: number;
    }>('revgw_outbox_claim', CLAIM_SQL, [limit, leaseMs]);
    return rows.map((row) => ({
      id: row.id,
      tenant: row.tenant,
      sealed: row.sealed_token,
      tokenType: row.token_type,
      level: row.level,
      interactionId: row.interaction_id,
      attempts: row.attempts,
      claim: row.claim,
    }));
  }

  async delivered(id: string, claim: number): Promise<void> {
    await this.statements.run('revgw_outbox_delivered', DELIVERED_SQL, [id, claim]);
  }

  async failed(id: string, claim: number, delayMs: number, error: string, dead: boolean): Promise<void> {
    await this.statements.run('revgw_outbox_failed', FAILED_SQL, [id, claim, delayMs, error, dead]);
  }

  async released(id: string, claim: number, delayMs: number): Promise<void> {
    await this.statements.run('revgw_outbox_released', RELEASED_SQL, [id, claim, delayMs]);
  }

  async counts(): Promise<{ pending: number; dead: number }> {
    const [row] = await this.statements.run<{ pending: number; dead: number }>('revgw_outbox_counts', COUNTS_SQL, []);
    return row;
  }
}

const FIRST_RETRY_MS = 1000;
const MAX_DELAY_MS = 5 * 60 * 1000;

/**
 * Exponential backoff with "equal jitter" after `attempts` failed deliveries: half the doubled
 * delay fixed, half random, capped at 5 minutes (docs/api.md §6: first retry within 5 s). The jitter
 * keeps replicas and rows that failed together from retrying together.
 */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(attempts - 1, 0), 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
