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
  readonly tokenType: TokenType;
  readonly clientId: string;
  readonly grantId: string;
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
  /** The tenant's issuer, when it has one. */
  readonly tenantIssuer: string | null;
}

/**
 * Finds a registered token by its SHA-256 hash in its tenant: one primary-key lookup (the tenant's
 * issuer comes with it), for introspection (docs/api.md §11.2) and the admin status
 * (docs/api.md §9). A token of another tenant is not found.
 */
@Injectable()
export class TokenLookup {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    // The hot path of introspection and the check: planned once per connection.
    this.statements = new PreparedStatements(db);
  }

  async find(tenant: string, hash: Buffer): Promise<RegisteredToken | undefined> {
    const [row] = await this.statements.run<RegisteredToken & QueryResultRow>('revgw_token_lookup', LOOKUP_SQL, [tenant, hash]);
    return row;
  }
}

const LOOKUP_SQL = `
  SELECT t.token_type AS "tokenType", t.client_id AS "clientId", t.grant_id AS "grantId", t.consent_id AS "consentId",
         t.subject, t.scope, t.cnf, t.issued_at AS "issuedAt", t.created_at AS "registeredAt", t.expires_at AS "expiresAt",
         t.revoked_at AS "revokedAt", (t.revoked_at IS NULL AND t.expires_at > now()) AS active, n.issuer AS "tenantIssuer"
    FROM tokens t JOIN tenants n ON n.name = t.tenant
   WHERE t.tenant = $1 AND t.token_hash = $2`;
