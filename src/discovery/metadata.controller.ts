import { Controller, Get, Inject } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { PROFILE_CONTRACTS } from '../protocol/profile-contracts';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/**
 * RFC 8414 §2 subset for revocation: where the endpoint is and how clients can authenticate to it.
 * It advertises only what works with this configuration: the rfc7009 route (or the fapi route when
 * rfc7009 is switched off), and mutual TLS only when a certificate can reach the gateway.
 */
@Controller()
export class MetadataController {
  private readonly metadata: Record<string, unknown>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const profile = config.profiles.has('rfc7009') ? 'rfc7009' : config.profiles.has('fapi') ? 'fapi' : undefined;
    const mutualTls = config.tls !== undefined || (config.mtlsClientCertHeader !== undefined && config.trustedProxies.length > 0);
    const contract = profile && PROFILE_CONTRACTS[profile];
    this.metadata = {
      issuer: config.issuer,
      ...(contract
        ? {
            revocation_endpoint: config.issuer + contract.route,
            revocation_endpoint_auth_methods_supported: contract.methods.filter(
              (method) => mutualTls || (method !== 'tls_client_auth' && method !== 'self_signed_tls_client_auth'),
            ),
            revocation_endpoint_auth_signing_alg_values_supported: contract.algorithms,
          }
        : {}),
    };
  }

  @Get(METADATA_PATH)
  get(): Record<string, unknown> {
    return this.metadata;
  }
}
