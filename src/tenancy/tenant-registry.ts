import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';

const UNIQUE_VIOLATION = '23505';

/** docs/api.md §8: the tenants, by name and by issuer (each a unique index). */
@Injectable()
export class TenantRegistry {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.statements.run('revgw_tenant_by_name', 'SELECT name FROM tenants WHERE name = $1', [name])).length > 0;
  }

  /** A tenant's issuer: null when it has none, undefined when there is no such tenant. */
  async issuerOf(name: string): Promise<string | null | undefined> {
    const [row] = await this.statements.run<{ issuer: string | null }>('revgw_tenant_issuer', 'SELECT issuer FROM tenants WHERE name = $1', [name]);
    return row ? row.issuer : undefined;
  }

  /** The tenant that registered this issuer, if one did. */
  async byIssuer(issuer: string): Promise<string | undefined> {
    const [row] = await this.statements.run<{ name: string }>('revgw_tenant_by_issuer', 'SELECT name FROM tenants WHERE issuer = $1', [issuer]);
    return row?.name;
  }

  /**
   * docs/api.md §9 `PUT /admin/tenants/{tenant}`: created (true) or replaced (false), issuer and
   * access-token keys (docs/api.md §11.3) alike. An issuer
   * names one tenant only: another tenant's issuer is a 400.
   */
  async put(name: string, settings: { issuer: string | null; accessTokenJwksUri: string | null }): Promise<boolean> {
    try {
      const [row] = await this.statements.run<{ created: boolean }>(
        'revgw_tenant_put',
        `INSERT INTO tenants (name, issuer, access_token_jwks_uri) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET issuer = EXCLUDED.issuer, access_token_jwks_uri = EXCLUDED.access_token_jwks_uri, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [name, settings.issuer, settings.accessTokenJwksUri],
      );
      return row.created;
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw ProtocolError.invalidRequest('issuer is already used by another tenant');
      throw error;
    }
  }
}
