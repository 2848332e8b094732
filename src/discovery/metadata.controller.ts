import { Controller, Get, Inject } from '@nestjs/common';
import { PLAIN_ALGORITHMS } from '../client-auth/client-assertion';
import { AUTH_METHODS } from '../client-auth/credentials';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { PROFILE_ROUTES } from '../protocol/profiles';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** RFC 8414 §2 subset for revocation: where the endpoint is and how clients authenticate to it. */
@Controller()
export class MetadataController {
  private readonly metadata: Record<string, unknown>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.metadata = {
      issuer: config.issuer,
      revocation_endpoint: config.issuer + PROFILE_ROUTES.rfc7009,
      revocation_endpoint_auth_methods_supported: AUTH_METHODS,
      revocation_endpoint_auth_signing_alg_values_supported: PLAIN_ALGORITHMS,
    };
  }

  @Get(METADATA_PATH)
  get(): Record<string, unknown> {
    return this.metadata;
  }
}
