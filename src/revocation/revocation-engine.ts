import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { isRetryableConflict, isTransientDatabaseError } from '../database/db-errors';
import { PreparedStatements } from '../database/pg-pool';
import { Metrics } from '../metrics/metrics';
import type { AuditProfile } from '../protocol/profiles';
import { batchParameters, REVOKE_BATCH_SQL, type BatchRow } from './batch-statement';
import { GroupCommit } from './group-commit';
import type { LevelByType, RevocationLevel } from './levels';
import type { TokenType } from './token-types';

export interface RevocationRequest {
  readonly tenant: string;
  readonly tokenHash: Buffer;
  /** The authenticated client: only its own tokens are revoked (RFC 7009 §2.1). */
  readonly clientId: string;
  readonly levels: LevelByType;
  readonly interactionId: string;
  readonly profile: AuditProfile;
  readonly psuIp?: string;
  /** Set when revocations are propagated upstream: the outbox row to write with the revocation. */
  readonly outbox?: OutboxEntry;
}

/** CONTRACT §6: what the outbox keeps of a revocation, written in the same statement as the revocation. */
export interface OutboxEntry {
  /** The presented token, sealed (AES-256-GCM). */
  readonly sealed: Buffer;
  /** For a token the gateway does not know: the client's hint. */
  readonly hint: TokenType | null;
  /** The synchronous delivery's lease: the worker leaves the row alone until it has passed. */
  readonly leaseMs: number;
}

/** The outbox row written for a revocation to propagate (own or unknown tokens, never another client's). */
export interface PendingPropagation {
  readonly id: string;
  readonly tokenType: TokenType | null;
  readonly level: RevocationLevel | null;
}

export type RevocationOutcome = 'revoked' | 'unknown' | 'foreign';

export interface RevocationResult {
  readonly outcome: RevocationOutcome;
  readonly tokenType: TokenType | null;
  /** Tokens newly revoked by this request (0 when repeated: revocation is idempotent). */
  readonly revokedAccess: number;
  readonly revokedRefresh: number;
  /** Whether the named token itself was among those newly revoked (the rest were cascaded). */
  readonly presentedRevoked: boolean;
  readonly propagation?: PendingPropagation;
}

/**
 * One revocation as one statement, so one round trip and one implicit transaction: find the
 * token, check its owner, pick the cascade for its level, revoke, mark the consent and write the
 * audit row — all or nothing. Data-modifying CTEs share one snapshot (PostgreSQL "WITH Queries").
 *
 * Levels (CONTRACT §2): NONE the token only; RELATED_TOKENS an access token's parent refresh token,
 * or a refresh token's access tokens; RELATED_CONSENT every token of the consent and the consent
 * itself (without a consent: as RELATED_TOKENS).
 */
export const REVOKE_SQL = `
WITH target AS (
  SELECT token_hash, token_type, client_id, consent_id, parent_hash,
         CASE WHEN token_type = 'refresh_token' THEN $5::text ELSE $4::text END AS requested
  FROM tokens WHERE token_hash = $2 AND tenant = $1
), owned AS (
  SELECT token_hash, token_type, consent_id, parent_hash, requested,
         CASE WHEN requested = 'RELATED_CONSENT' AND consent_id IS NULL THEN 'RELATED_TOKENS' ELSE requested END AS level
  FROM target WHERE client_id = $3
), victims AS (
  SELECT token_hash, $3 AS client_id FROM owned
  UNION
  SELECT p.token_hash, p.client_id FROM owned o JOIN tokens p ON p.token_hash = o.parent_hash AND p.tenant = $1
   WHERE o.level = 'RELATED_TOKENS' AND o.token_type = 'access_token'
  UNION
  SELECT c.token_hash, c.client_id FROM owned o JOIN tokens c ON c.tenant = $1 AND c.parent_hash = o.token_hash
   WHERE o.level = 'RELATED_TOKENS' AND o.token_type = 'refresh_token'
  UNION
  SELECT k.token_hash, k.client_id FROM owned o JOIN tokens k ON k.tenant = $1 AND k.consent_id = o.consent_id
   WHERE o.level = 'RELATED_CONSENT'
), revoked AS (
  -- Cascades stay within the requesting client: registration keeps families and consents within
  -- one client, and this keeps any inconsistency from letting one client revoke another's token.
  -- The check reads the CTE, not the table, so no client_id predicate can tempt the planner away
  -- from the primary key (with stale statistics it would scan all of a client's tokens).
  UPDATE tokens SET revoked_at = now()
   WHERE token_hash IN (SELECT token_hash FROM victims WHERE client_id = $3) AND tenant = $1 AND revoked_at IS NULL
  RETURNING token_hash, token_type
), consent AS (
  UPDATE consents SET revoked_at = now()
   WHERE tenant = $1 AND consent_id = (SELECT consent_id FROM owned WHERE level = 'RELATED_CONSENT') AND revoked_at IS NULL
  RETURNING 1
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT $6, $1, $3, $7, (SELECT token_type FROM target), (SELECT level FROM owned), (SELECT count(*) FROM revoked),
         CASE WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'unknown'
              WHEN NOT EXISTS (SELECT 1 FROM owned) THEN 'foreign'
              ELSE 'revoked' END,
         $8
  RETURNING outcome, token_type
), outbox AS (
  -- CONTRACT §6: the propagation is durable before the answer. The presented token only (the
  -- upstream cascades itself). A token unknown here goes too (the upstream may know it), without
  -- a level: nothing here vouches for the caller's right to more than that token. Never another
  -- client's token, in this tenant or any other (the primary key leads with the hash): the
  -- gateway's own credentials would revoke it upstream. The sync delivery's lease is counted from
  -- after the revocation ran (the WHERE reads "revoked" first), not from statement start: a
  -- statement that waited on a row lock must not commit a lease that has already run out.
  INSERT INTO upstream_outbox (tenant, sealed_token, token_type, level, interaction_id, attempts, next_attempt_at)
  SELECT $1, $9::bytea, COALESCE((SELECT token_type FROM target), $10::text), (SELECT requested FROM owned), $12::text, 1,
         clock_timestamp() + $11::int * interval '1 millisecond'
  WHERE $9::bytea IS NOT NULL AND (SELECT count(*) FROM revoked) >= 0
    AND (EXISTS (SELECT 1 FROM owned) OR NOT EXISTS (SELECT 1 FROM tokens WHERE token_hash = $2))
  RETURNING id, token_type, level
)
SELECT e.outcome, e.token_type,
       (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS revoked_access,
       (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS revoked_refresh,
       (SELECT count(*) FROM consent)::int AS consents,
       EXISTS (SELECT 1 FROM revoked WHERE token_hash = $2) AS presented_revoked,
       o.id::text AS outbox_id, o.token_type AS outbox_token_type, o.level AS outbox_level
FROM event e LEFT JOIN outbox o ON true`;

/**
 * CDR arrangement revocation (CONTRACT §2 `cdr`): the consent and every token under it, in one
 * statement with its audit row. The consent must be the caller's; tokens are found by the consent
 * index and revoked by primary key, again only the caller's.
 */
const REVOKE_CONSENT_SQL = `
WITH consent AS (
  SELECT consent_id, client_id FROM consents WHERE tenant = $1 AND consent_id = $2
), owned AS (
  SELECT consent_id FROM consent WHERE client_id = $3
), victims AS (
  SELECT t.token_hash, t.client_id FROM owned o JOIN tokens t ON t.tenant = $1 AND t.consent_id = o.consent_id
), revoked AS (
  UPDATE tokens SET revoked_at = now()
   WHERE token_hash IN (SELECT token_hash FROM victims WHERE client_id = $3) AND tenant = $1 AND revoked_at IS NULL
  RETURNING token_type
), marked AS (
  UPDATE consents SET revoked_at = now()
   WHERE tenant = $1 AND consent_id = (SELECT consent_id FROM owned) AND revoked_at IS NULL
  RETURNING 1
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT $4, $1, $3, $5, NULL, 'RELATED_CONSENT', (SELECT count(*) FROM revoked),
         CASE WHEN NOT EXISTS (SELECT 1 FROM consent) THEN 'unknown'
              WHEN NOT EXISTS (SELECT 1 FROM owned) THEN 'foreign'
              ELSE 'revoked' END,
         $6
  RETURNING outcome
)
SELECT e.outcome, NULL AS token_type,
       (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS revoked_access,
       (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS revoked_refresh
FROM event e`;

export interface ConsentRevocationRequest extends Omit<RevocationRequest, 'tokenHash' | 'levels'> {
  readonly consentId: string;
}

/** Deadlocks between overlapping cascades are resolved by PostgreSQL aborting one; it is retried. */
const MAX_ATTEMPTS = 3;

/** What both revocation statements return per request. */
interface ResultRow {
  outcome: RevocationOutcome;
  token_type: TokenType | null;
  revoked_access: number;
  revoked_refresh: number;
  presented_revoked?: boolean;
  outbox_id?: string | null;
  outbox_token_type?: TokenType | null;
  outbox_level?: RevocationLevel | null;
}

@Injectable()
export class RevocationEngine {
  private readonly statements: PreparedStatements;
  private readonly group: GroupCommit<RevocationRequest, RevocationResult>;

  constructor(@Inject(DataSource) db: DataSource, @Inject(APP_CONFIG) config: AppConfig, metrics: Metrics) {
    this.statements = new PreparedStatements(db);
    // Half the pool for revocation statements (the embedded database has one connection): the
    // rest stays free for client lookups, jti inserts and outbox updates, and requests beyond
    // that wait for the next batch instead of queueing for a connection one by one.
    const slots = config.databaseUrl ? Math.max(1, Math.floor(config.database.poolSize / 2)) : 1;
    this.group = new GroupCommit(
      (request) => this.revokeOne(request),
      async (requests) => {
        metrics.revocationBatchSize.observe(requests.length);
        return this.revokeMany(requests);
      },
      isTransientDatabaseError,
      slots,
    );
  }

  /** One revocation; under load it shares its statement with others (group commit). */
  revoke(request: RevocationRequest): Promise<RevocationResult> {
    return this.group.submit(request);
  }

  async revokeConsent(request: ConsentRevocationRequest): Promise<RevocationResult> {
    const [row] = await this.retrying(() =>
      this.statements.run<ResultRow>('revgw_revoke_consent', REVOKE_CONSENT_SQL, [
        request.tenant,
        request.consentId,
        request.clientId,
        request.interactionId,
        request.profile,
        request.psuIp ?? null,
      ]),
    );
    return toResult(row);
  }

  private async revokeOne(request: RevocationRequest): Promise<RevocationResult> {
    const [row] = await this.retrying(() =>
      this.statements.run<ResultRow>('revgw_revoke', REVOKE_SQL, [
        request.tenant,
        request.tokenHash,
        request.clientId,
        request.levels.access_token,
        request.levels.refresh_token,
        request.interactionId,
        request.profile,
        request.psuIp ?? null,
        request.outbox?.sealed ?? null,
        request.outbox?.hint ?? null,
        request.outbox?.leaseMs ?? null,
        // As sent: the audit column is a uuid (case-folded), the upstream gets the caller's spelling.
        request.interactionId,
      ]),
    );
    return toResult(row);
  }

  private async revokeMany(requests: RevocationRequest[]): Promise<RevocationResult[]> {
    const leaseMs = requests.find((request) => request.outbox)?.outbox?.leaseMs ?? null;
    const rows = await this.retrying(() =>
      this.statements.run<BatchRow>('revgw_revoke_batch', REVOKE_BATCH_SQL, batchParameters(requests, leaseMs)),
    );
    return rows.map(toResult);
  }

  private async retrying<T>(statement: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await statement();
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(error)) throw error;
      }
    }
  }
}

function toResult(row: ResultRow): RevocationResult {
  return {
    outcome: row.outcome,
    tokenType: row.token_type,
    revokedAccess: row.revoked_access,
    revokedRefresh: row.revoked_refresh,
    presentedRevoked: row.presented_revoked ?? false,
    ...(row.outbox_id ? { propagation: { id: row.outbox_id, tokenType: row.outbox_token_type ?? null, level: row.outbox_level ?? null } } : {}),
  };
}
