import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RECORD_RULE_SQL } from '../access-tokens/revocation-rules';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { PreparedStatements } from '../database/pg-pool';
import type { RegisteredToken } from '../tokens/token-lookup';
import type { AuditProfile } from '../protocol/profiles';
import type { LevelByType, RevocationLevel } from './levels';
import {
  CONSENT_LOCKS_SQL,
  LOCK_BULK_CONSENT_SQL,
  LOCK_BULK_TOKENS_SQL,
  LOCK_CONSENT_SQL,
  REVOKE_BATCH_SQL,
  REVOKE_BULK_SQL,
  REVOKE_CONSENT_SQL,
} from './revocation-statements';
import { REVOKE_UNREGISTERED_SQL } from './unregistered-statements';
import type { TokenType } from './token-types';

/*
 * The revocation store: the three revocation statements (revocation-statements.ts, with the lock
 * order every statement that revokes or registers follows), their requests, their one row type and
 * their parameters.
 */

export interface RevocationRequest {
  readonly tenant: string;
  readonly tokenHash: Buffer;
  /** The authenticated client: only its own tokens are revoked (RFC 7009 §2.1). */
  readonly clientId: string;
  readonly levels: LevelByType;
  /** x-fapi-interaction-id as the caller spelled it: the audit row keeps it as a uuid, the outbox verbatim. */
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

export interface ConsentRevocationRequest extends Omit<RevocationRequest, 'tokenHash' | 'levels' | 'outbox'> {
  readonly consentId: string;
}

/** docs/api.md §9 `POST /admin/revocations`: at least one criterion; several combine with AND. */
export interface BulkRevocationRequest {
  readonly tenant: string;
  readonly subject?: string;
  readonly clientId?: string;
  readonly consentId?: string;
  readonly interactionId: string;
}

export type RevocationOutcome = 'revoked' | 'unknown' | 'foreign';

/** What every revocation statement answers, one row per request. */
export interface RevocationRow {
  /** The request's position in the batch, from 1. */
  idx: number;
  outcome: RevocationOutcome;
  token_type: TokenType | null;
  revoked_access: number;
  revoked_refresh: number;
  presented_revoked: boolean;
  outbox_id: string | null;
  outbox_token_type: TokenType | null;
  outbox_level: RevocationLevel | null;
}

/** The revocation statement's parameters: one array per column, one element per request; then the consents locked before it. */
export function batchParameters(requests: readonly RevocationRequest[], locked: ReadonlyArray<{ tenant: string; consentId: string }> = []): unknown[] {
  const column = <T>(pick: (request: RevocationRequest) => T) => requests.map(pick);
  return [
    column((r) => r.tenant),
    column((r) => r.tokenHash),
    column((r) => r.clientId),
    column((r) => r.levels.access_token),
    column((r) => r.levels.refresh_token),
    column((r) => r.interactionId),
    column((r) => r.profile),
    column((r) => r.psuIp ?? null),
    column((r) => r.outbox?.sealed ?? null),
    column((r) => r.outbox?.hint ?? null),
    requests.find((r) => r.outbox)?.outbox?.leaseMs ?? null,
    locked.map((c) => c.tenant),
    locked.map((c) => c.consentId),
  ];
}

/**
 * The revocation statements, each one transaction (see the lock order in revocation-statements.ts). Conflicts are the
 * caller's to retry (RevocationEngine): a deadlock or serialization failure rolls everything back.
 */
@Injectable()
export class RevocationStore {
  private readonly statements: PreparedStatements;
  /** docs/api.md §11.3: how long a rule is kept. */
  private readonly ruleLifetimeS: number;

  constructor(@Inject(DataSource) db: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.statements = new PreparedStatements(db);
    this.ruleLifetimeS = config.accessTokens.maxLifetimeS;
  }

  /**
   * A client's revocation requests, one row each in their order. RFC 7009 §2.1: "the
   * authorization server [...] verifies whether the token was issued to the client making the
   * revocation request" — another client's token is `foreign` and left alone; "In the next step,
   * the authorization server invalidates the token. The invalidation takes place immediately";
   * "If the particular token is a refresh token [...] the authorization server SHOULD also
   * invalidate all access tokens based on the same authorization grant"; "If the token passed to
   * the request is an access token, the server MAY revoke the respective refresh token as well"
   * (the request's levels decide). RFC 7009 §2.2: an unknown token is `unknown`, not an error
   * ("invalid tokens do not cause an error response").
   */
  revokeTokens(requests: readonly RevocationRequest[]): Promise<RevocationRow[]> {
    // Consents are locked before anything else: a batch that may revoke one takes them first, in
    // a transaction; the others are the one statement alone.
    const consentLevel = requests.filter((r) => r.levels.access_token === 'RELATED_CONSENT' || r.levels.refresh_token === 'RELATED_CONSENT');
    if (consentLevel.length === 0) return this.statements.run<RevocationRow>('revgw_revoke', REVOKE_BATCH_SQL, batchParameters(requests));
    return this.statements.transaction(async (run) => {
      const locked = await run<{ tenant: string; consent_id: string }>('revgw_lock_consents', CONSENT_LOCKS_SQL, [
        consentLevel.map((r) => r.tenant),
        consentLevel.map((r) => r.tokenHash),
        consentLevel.map((r) => r.clientId),
      ]);
      const consents = locked.map((row) => ({ tenant: row.tenant, consentId: row.consent_id }));
      return run<RevocationRow>('revgw_revoke', REVOKE_BATCH_SQL, batchParameters(requests, consents));
    });
  }

  /**
   * A CDR arrangement and every token under it (RELATED_CONSENT), if it is the caller's: RFC 7009
   * §2.1 "the revocation of a particular token may cause the revocation of related tokens and the
   * underlying authorization grant". Someone else's arrangement is `foreign`, an unknown one
   * `unknown`; both are audited and change nothing.
   */
  async revokeConsent(request: ConsentRevocationRequest): Promise<RevocationRow> {
    const [row] = await this.statements.transaction(async (run) => {
      // The consent first: every token registered under it before is in the statement's
      // snapshot, every one after is born revoked.
      const locked = await run('revgw_lock_consent', LOCK_CONSENT_SQL, [request.tenant, request.consentId, request.clientId]);
      const rows = await run<RevocationRow>('revgw_revoke_consent', REVOKE_CONSENT_SQL, [
        request.tenant,
        request.consentId,
        request.clientId,
        request.interactionId,
        request.profile,
        request.psuIp ?? null,
        locked.length > 0,
      ]);
      // docs/api.md §11.3: the client's JWT access tokens of that consent go with it, whether or
      // not the gateway knew the arrangement; never for another client's arrangement.
      if (rows[0].outcome !== 'foreign') {
        await run('revgw_record_rule', RECORD_RULE_SQL, [request.tenant, null, request.clientId, request.consentId, this.ruleLifetimeS]);
      }
      return rows;
    });
    return row;
  }

  /**
   * The operator's revocation by subject, client and/or consent (account closure, client
   * offboarding, consent withdrawal; docs/api.md §9), audited as one `admin` event. The consent
   * itself is withdrawn only when the request is about the consent alone.
   *
   * Planned for this request's values, not the connection's generic plan: the criteria are
   * optional, and client_id is skewed by nature (a few large TPPs, many small ones), so a generic
   * plan made for the average client scans the whole table to offboard a small one (≈0.6 s at
   * 340k tokens, where the index takes 3 ms). Planning costs ~2 ms, nothing at admin rates.
   */
  async revokeInBulk(request: BulkRevocationRequest): Promise<RevocationRow> {
    const match = [request.tenant, request.subject ?? null, request.clientId ?? null, request.consentId ?? null];
    const consentAlone = request.consentId !== undefined && request.subject === undefined && request.clientId === undefined;
    const [row] = await this.statements.transaction(
      async (run) => {
        // Everything it will revoke is locked first: the consent of a withdrawal, then the live
        // tokens matched, in hash order. The statement then sees every token registered before
        // those locks, and a registration after them waits for the commit and finds its family revoked.
        const locked = consentAlone && (await run('revgw_bulk_lock_consent', LOCK_BULK_CONSENT_SQL, [request.tenant, request.consentId])).length > 0;
        await run('revgw_bulk_lock_tokens', LOCK_BULK_TOKENS_SQL, match);
        const rows = await run<RevocationRow>('revgw_bulk_revoke', REVOKE_BULK_SQL, [...match, consentAlone, request.interactionId, locked]);
        // docs/api.md §11.3: the JWT access tokens that match, issued before now, are revoked too.
        await run('revgw_record_rule', RECORD_RULE_SQL, [...match, this.ruleLifetimeS]);
        return rows;
      },
      { customPlans: true },
    );
    return row;
  }

  /**
   * A token nobody registered (docs/api.md §11.3, §11.4), as TokenStanding knows it: the caller's
   * own is denylisted, another client's is audited as `foreign`.
   */
  async revokeUnregistered(request: RevocationRequest, token: RegisteredToken): Promise<RevocationRow> {
    const [row] = await this.statements.run<RevocationRow>('revgw_revoke_unregistered', REVOKE_UNREGISTERED_SQL, [
      request.tenant,
      request.tokenHash,
      request.clientId,
      token.clientId === request.clientId,
      token.jti ?? '',
      token.subject,
      token.scope,
      token.cnf === null ? null : JSON.stringify(token.cnf),
      token.issuedAt,
      token.expiresAt,
      request.interactionId,
      request.profile,
      request.psuIp ?? null,
      request.outbox?.sealed ?? null,
      request.outbox?.leaseMs ?? null,
      token.tokenType,
      token.origin === 'jwt' && token.jti !== undefined ? token.tenantIssuer : null,
      token.origin === 'jwt' && token.jti !== undefined ? token.jti : null,
    ]);
    return row;
  }
}
