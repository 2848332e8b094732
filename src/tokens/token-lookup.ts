import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { QueryResultRow } from 'pg';
import { PreparedStatements } from '../database/pg-pool';
import type { TokenType } from '../revocation/token-types';

/** docs/api.md §9: a token's confirmation, RFC 8705 §3.1 (`x5t#S256`) or RFC 9449 §6.1 (`jkt`). */
export interface Confirmation {
  readonly 'x5t#S256'?: string;
  readonly jkt?: string;
}

/** What is stored of a registered token (docs/api.md §9), with its standing as the database sees it now. */
export interface RegisteredToken {
  /**
   * A registered token (or a token recorded when it was revoked), a JWT access token known by its
   * signature (docs/api.md §11.3), or a token the upstream authorization server said is active
   * (docs/api.md §11.4).
   */
  readonly origin: 'registered' | 'jwt' | 'upstream';
  readonly tokenType: TokenType;
  readonly clientId: string;
  /** Null for a JWT access token, which names no grant. */
  readonly grantId: string | null;
  /** A JWT access token's `jti`. */
  readonly jti?: string;
  readonly consentId: string | null;
  readonly subject: string | null;
  readonly scope: string | null;
  readonly cnf: Confirmation | null;
  /** `issued_at` as registered; null when the registration did not say. */
  readonly issuedAt: Date | null;
  readonly registeredAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  /** Neither revoked nor expired, by the database's clock. */
  readonly active: boolean;
  /** The tenant's issuer, when it has one (a JWT access token: its `iss`). */
  readonly tenantIssuer: string | null;
  /** An upstream-known token: the upstream's answer, passed on unchanged (docs/api.md §11.4). */
  readonly upstreamAnswer?: Readonly<Record<string, unknown>>;
  /** Kept in memory at most until then (ms since the epoch), whatever the cache's TTL. */
  readonly cacheUntil?: number;
}

/** The expiry of a token whose expiry nobody said (an upstream answer without `exp`): kept for good. */
export const NEVER_EXPIRES = new Date('9999-12-31T00:00:00Z');

/** A tenant as a lookup sees it: its registered token, if it has that one, and whose JWT access tokens it accepts. */
export interface TenantLookup {
  readonly registered?: RegisteredToken;
  readonly issuer: string | null;
  readonly accessTokenJwksUri: string | null;
}

/**
 * Finds a registered token by its SHA-256 hash in its tenant: one primary-key lookup of the
 * tenant, and of the token in it (the tenant's issuer and access-token keys come with it, for a
 * token that turns out to be a JWT), for introspection (docs/api.md §11.2), the check and the
 * admin status (docs/api.md §9). A token of another tenant is not found; an unknown tenant is
 * undefined.
 */
@Injectable()
export class TokenLookup {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    // The hot path of introspection and the check: planned once per connection.
    this.statements = new PreparedStatements(db);
  }

  async find(tenant: string, hash: Buffer): Promise<TenantLookup | undefined> {
    const [row] = await this.statements.run<LookupRow>('revgw_token_lookup', LOOKUP_SQL, [tenant, hash]);
    if (!row) return undefined;
    const { found, accessTokenJwksUri, ...token } = row;
    return { issuer: token.tenantIssuer, accessTokenJwksUri, ...(found ? { registered: { origin: 'registered', ...token } } : {}) };
  }
}

type LookupRow = Omit<RegisteredToken, 'origin' | 'jti'> & { found: boolean; accessTokenJwksUri: string | null } & QueryResultRow;

const LOOKUP_SQL = `
  SELECT t.token_hash IS NOT NULL AS found, t.token_type AS "tokenType", t.client_id AS "clientId", t.grant_id AS "grantId",
         t.consent_id AS "consentId", t.subject, t.scope, t.cnf, t.issued_at AS "issuedAt", t.created_at AS "registeredAt",
         t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt", (t.revoked_at IS NULL AND t.expires_at > now()) AS active,
         n.issuer AS "tenantIssuer", n.access_token_jwks_uri AS "accessTokenJwksUri"
    FROM tenants n LEFT JOIN tokens t ON t.tenant = n.name AND t.token_hash = $2
   WHERE n.name = $1`;
