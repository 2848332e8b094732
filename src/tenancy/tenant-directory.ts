import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';
import type { ProfileName } from '../protocol/profiles';
import { TENANT_NAME } from './tenant-name';

/** How long the tenant list is trusted before it is read again. */
const TTL_MS = 10_000;
/** A name or issuer not in the list rereads it, at most this often (unknown tenants must not flood the database). */
const MISS_RELOAD_MS = 1_000;

/**
 * CONTRACT §8: which tenant a public request belongs to. The first present wins: `Tenant-ID`;
 * `Issuer` matched to a tenant's issuer; for `oam`, `x-oauth-identity-domain-name`, then the
 * `identityDomain` query parameter; else `default`. An unknown tenant is a 400.
 *
 * Tenants are few and change rarely, so the list is held in memory (no query per request) and
 * reread every 10 s, or at once (at most once a second) when a request names one it does not know.
 */
@Injectable()
export class TenantDirectory {
  private readonly statements: PreparedStatements;
  private names = new Set<string>(['default']);
  private issuers = new Map<string, string>();
  private loadedAt = 0;
  private missReloadAt = 0;
  private loading?: Promise<void>;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async resolve(request: FastifyRequest, profile: ProfileName): Promise<string> {
    const headers = request.headers;
    const tenantId = headers['tenant-id'];
    if (tenantId !== undefined) return this.byName(tenantId, 'Tenant-ID');
    const issuer = headers.issuer;
    if (issuer !== undefined) return this.byIssuer(issuer);
    if (profile === 'oam') {
      const domain = headers['x-oauth-identity-domain-name'];
      if (domain !== undefined) return this.byName(domain, 'x-oauth-identity-domain-name');
      const query = (request.query as Record<string, string | string[] | undefined> | undefined)?.identityDomain;
      if (query !== undefined) return this.byName(query, 'identityDomain');
    }
    return 'default';
  }

  private async byName(value: string | string[], source: string): Promise<string> {
    if (typeof value !== 'string' || !TENANT_NAME.test(value)) throw ProtocolError.invalidRequest(`${source} is malformed`);
    if (await this.known(() => this.names.has(value))) return value;
    throw ProtocolError.invalidRequest('unknown tenant');
  }

  private async byIssuer(value: string | string[]): Promise<string> {
    if (typeof value !== 'string' || value === '') throw ProtocolError.invalidRequest('Issuer is malformed');
    if (await this.known(() => this.issuers.has(value))) return this.issuers.get(value)!;
    throw ProtocolError.invalidRequest('unknown tenant');
  }

  private async known(present: () => boolean): Promise<boolean> {
    const now = Date.now();
    if (now - this.loadedAt > TTL_MS) await this.reload();
    if (present()) return true;
    if (now - this.missReloadAt < MISS_RELOAD_MS) return false;
    this.missReloadAt = now;
    await this.reload();
    return present();
  }

  private reload(): Promise<void> {
    this.loading ??= this.statements
      .run<{ name: string; issuer: string | null }>('revgw_tenants', 'SELECT name, issuer FROM tenants', [])
      .then((rows) => {
        this.names = new Set(rows.map((row) => row.name));
        this.issuers = new Map(rows.flatMap((row) => (row.issuer ? [[row.issuer, row.name] as [string, string]] : [])));
        this.loadedAt = Date.now();
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}
