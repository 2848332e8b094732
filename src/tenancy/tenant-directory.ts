import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ProtocolError } from '../protocol/protocol-error';
import type { TenantSelector } from '../protocol/profiles';
import { TENANT_NAME } from './tenant-name';
import { TenantRegistry } from './tenant-registry';

/**
 * docs/api.md §8: which tenant a public request belongs to. The first present wins: `Tenant-ID`;
 * `Issuer` matched to a tenant's issuer; for `oam`, `x-oauth-identity-domain-name`, then the
 * `identityDomain` query parameter; else `default`. An unknown tenant is a 400.
 *
 * Asked of the database each time a request names a tenant (one indexed lookup): a cache would let
 * a request reach a tenant whose issuer has just moved, or refuse one created a moment ago, on any
 * replica. A request that names none is `default`, which always exists, at no cost.
 */
@Injectable()
export class TenantDirectory {
  constructor(
    private readonly tenants: TenantRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The first of the profile's selectors that the request carries decides (docs/api.md §8). */
  async resolve(request: FastifyRequest, selectors: readonly TenantSelector[]): Promise<string> {
    const headers = request.headers;
    for (const selector of selectors) {
      switch (selector) {
        case 'tenant-id':
          if (headers['tenant-id'] !== undefined) return this.byName(headers['tenant-id'], 'Tenant-ID');
          break;
        case 'issuer':
          if (headers.issuer !== undefined) return this.byIssuer(headers.issuer);
          break;
        case 'identity-domain-header': {
          const domain = headers['x-oauth-identity-domain-name'];
          if (domain !== undefined) return this.byName(domain, 'x-oauth-identity-domain-name');
          break;
        }
        case 'identity-domain-query': {
          const query = (request.query as Record<string, string | string[] | undefined> | undefined)?.identityDomain;
          if (query !== undefined) return this.byName(query, 'identityDomain');
          break;
        }
      }
    }
    return 'default';
  }

  private async byName(value: string | string[], source: string): Promise<string> {
    if (typeof value !== 'string' || !TENANT_NAME.test(value)) throw ProtocolError.invalidRequest(`${source} is malformed`);
    if (value === 'default') return value;
    if (!(await this.tenants.exists(value))) throw ProtocolError.invalidRequest('unknown tenant');
    return value;
  }

  private async byIssuer(value: string | string[]): Promise<string> {
    if (typeof value !== 'string' || value === '' || value.length > 2048) throw ProtocolError.invalidRequest('Issuer is malformed');
    const tenant = await this.tenants.byIssuer(value);
    if (tenant !== undefined) return tenant;
    // The gateway's own issuer names the default tenant unless a tenant registered it explicitly.
    if (value === this.config.issuer) return 'default';
    throw ProtocolError.invalidRequest('unknown tenant');
  }
}
