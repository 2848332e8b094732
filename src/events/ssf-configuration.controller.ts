import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { JWKS_PATH } from '../signing/jwks.controller';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { TenantRegistry } from '../tenancy/tenant-registry';
import { POLL, PUSH } from './stream-request';

export const SSF_CONFIGURATION_PATH = '/.well-known/ssf-configuration';

/**
 * SSF 1.0 §7.1 transmitter metadata (docs/api.md §12.1), on the public port. `issuer` is the
 * tenant's when `Tenant-ID` or `Issuer` names one (docs/api.md §8), else ISSUER; the keys are the
 * gateway's (docs/api.md §13). Stream management is the admin API's, on the management port, so
 * no configuration endpoint is advertised here.
 */
@Controller()
export class SsfConfigurationController {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly tenants: TenantRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(SSF_CONFIGURATION_PATH)
  async get(@Req() request: FastifyRequest) {
    const tenant = await this.directory.resolve(request, ['tenant-id', 'issuer']);
    const issuer = await this.tenants.issuerOf(tenant);
    return {
      spec_version: '1_0',
      issuer: issuer ?? this.config.issuer,
      jwks_uri: this.config.issuer + JWKS_PATH,
      delivery_methods_supported: [PUSH, POLL],
    };
  }
}
