import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { failsEveryRequest, retryingConflicts } from '../database/db-errors';
import { PreparedStatements } from '../database/pg-pool';
import { Metrics } from '../metrics/metrics';
import type { AuditProfile } from '../protocol/profiles';
import { ProtocolError } from '../protocol/protocol-error';
import { batchParameters, CONSENT_LOCKS_SQL, REVOKE_BATCH_SQL, type BatchRow } from './batch-statement';
import { GroupCommit, statementSlots } from '../database/group-commit';
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

/** docs/api.md §6: what the outbox keeps of a revocation, written in the same statement as the revocation. */
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

/** A CDR arrangement (the caller's consent) locked before it is revoked. */
const LOCK_CONSENT_SQL = `SELECT 1 FROM consents WHERE tenant = $1 AND consent_id = $2 AND client_id = $3 AND revoked_at IS NULL FOR UPDATE`;

/**
 * CDR arrangement revocation (docs/api.md §2, `cdr`): the consent and every token under it, with
 * the refresh tokens its access tokens came from (RELATED_CONSENT includes RELATED_TOKENS), in one
 * statement with its audit row, after LOCK_CONSENT_SQL in the same transaction. The consent must
 * be the caller's; its tokens are found by the consent index and revoked by primary key, again
 * only the caller's. Tokens are locked in hash order and their family versions checked, as in
 * the revocation statement (batch-statement.ts).
 */
const REVOKE_CONSENT_SQL = `
WITH consent AS (
  SELECT consent_id, client_id FROM consents WHERE tenant = $1 AND consent_id = $2
), owned AS (
  SELECT consent_id FROM consent WHERE client_id = $3
), consent_tokens AS MATERIALIZED (
  SELECT t.token_hash, t.token_type, t.parent_hash, t.family_version, t.revoked_at IS NULL AS live
    FROM owned o JOIN tokens t ON t.tenant = $1 AND t.consent_id = o.consent_id WHERE t.client_id = $3
), unlocked AS (
  -- The arrangement exists now but did not when it was to be locked (created in between): run again.
  SELECT 1 FROM owned o JOIN consents k ON k.tenant = $1 AND k.consent_id = o.consent_id WHERE k.revoked_at IS NULL AND NOT $7::boolean
), members AS (
  SELECT token_hash, family_version, live FROM consent_tokens
  UNION
  SELECT p.token_hash, p.family_version, p.revoked_at IS NULL FROM consent_tokens t JOIN tokens p ON p.tenant = $1 AND p.token_hash = t.parent_hash
   WHERE t.token_type = 'access_token' AND p.client_id = $3
), victims AS (
  SELECT t.token_hash, t.family_version <> m.family_version AS changed
    FROM members m JOIN tokens t ON t.tenant = $1 AND t.token_hash = m.token_hash
   WHERE m.live
   ORDER BY t.token_hash FOR UPDATE OF t
), revoked AS (
  UPDATE tokens t SET revoked_at = now() FROM victims v
   WHERE t.token_hash = v.token_hash AND t.tenant = $1 AND t.revoked_at IS NULL
     AND revgw_family_unchanged((SELECT bool_or(changed) FROM victims) OR EXISTS (SELECT 1 FROM unlocked))
  RETURNING t.token_type
), marked AS (
  UPDATE consents k SET revoked_at = now() FROM owned o
   WHERE k.tenant = $1 AND k.consent_id = o.consent_id AND k.revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
     AND revgw_family_unchanged(EXISTS (SELECT 1 FROM unlocked))
  RETURNING 1
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT $4, $1, $3, $5, NULL, 'RELATED_CONSENT', (SELECT count(*) FROM revoked),
         CASE WHEN NOT EXISTS (SELECT 1 FROM consent) THEN 'unknown'
              WHEN NOT EXISTS (SELECT 1 FROM owned) THEN 'foreign'
              ELSE 'revoked' END,
         $6
   WHERE (SELECT count(*) FROM marked) >= 0
  RETURNING outcome
)
SELECT e.outcome, NULL AS token_type,
       (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS revoked_access,
       (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS revoked_refresh
FROM event e`;

export interface ConsentRevocationRequest extends Omit<RevocationRequest, 'tokenHash' | 'levels'> {
  readonly consentId: string;
}

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

  constructor(
    @Inject(DataSource) db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.statements = new PreparedStatements(db);
    // Half the pool for revocation statements: the rest stays free for client lookups, jti
    // inserts and outbox updates, and requests beyond that wait for the next batch instead of
    // queueing for a connection one by one.
    const slots = statementSlots(config, 1 / 2);
    this.group = new GroupCommit(
      async (request) => (await this.revokeMany([request]))[0],
      async (requests) => {
        metrics.revocationBatchSize.observe(requests.length);
        return this.revokeMany(requests);
      },
      failsEveryRequest,
      slots,
      config.database.statementTimeoutMs,
      () => ProtocolError.temporarilyUnavailable('revocation batch retry budget spent'),
    );
  }

  /** One revocation; under load it shares its statement with others (group commit). */
  async revoke(request: RevocationRequest): Promise<RevocationResult> {
    const result = await this.group.submit(request);
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: result.presentedRevoked ? result.tokenType : null });
    return result;
  }

  async revokeConsent(request: ConsentRevocationRequest): Promise<RevocationResult> {
    const [row] = await retryingConflicts(() =>
      this.statements.transaction(async (run) => {
        // The consent first (the lock order of batch-statement.ts): every token registered under
        // it before is in the statement's snapshot, every one after is born revoked.
        const locked = await run('revgw_lock_consent', LOCK_CONSENT_SQL, [request.tenant, request.consentId, request.clientId]);
        return run<ResultRow>('revgw_revoke_consent', REVOKE_CONSENT_SQL, [
          request.tenant,
          request.consentId,
          request.clientId,
          request.interactionId,
          request.profile,
          request.psuIp ?? null,
          locked.length > 0,
        ]);
      }),
    );
    const result = toResult(row);
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: null });
    return result;
  }

  private async revokeMany(requests: RevocationRequest[]): Promise<RevocationResult[]> {
    const leaseMs = requests.find((request) => request.outbox)?.outbox?.leaseMs ?? null;
    // Consents are locked before anything else (batch-statement.ts): a batch that may revoke one
    // takes them first, in a transaction; the others are the one statement alone.
    const consentLevel = requests.filter((r) => r.levels.access_token === 'RELATED_CONSENT' || r.levels.refresh_token === 'RELATED_CONSENT');
    const rows = await retryingConflicts(() =>
      consentLevel.length === 0
        ? this.statements.run<BatchRow>('revgw_revoke', REVOKE_BATCH_SQL, batchParameters(requests, leaseMs))
        : this.statements.transaction(async (run) => {
            const locked = await run<{ tenant: string; consent_id: string }>('revgw_lock_consents', CONSENT_LOCKS_SQL, [
              consentLevel.map((r) => r.tenant),
              consentLevel.map((r) => r.tokenHash),
              consentLevel.map((r) => r.clientId),
            ]);
            const consents = locked.map((row) => ({ tenant: row.tenant, consentId: row.consent_id }));
            return run<BatchRow>('revgw_revoke', REVOKE_BATCH_SQL, batchParameters(requests, leaseMs, consents));
          }),
    );
    // One row per request, by position (idx is 1-based); anything else is a defect, not an answer.
    if (rows.length !== requests.length || rows.some((row, i) => row.idx !== i + 1)) {
      throw new Error(`revocation statement answered ${rows.length} rows for ${requests.length} requests`);
    }
    return rows.map(toResult);
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
