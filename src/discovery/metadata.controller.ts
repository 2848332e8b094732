import { Controller, Get, Inject } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { SigningKeys } from '../signing/signing-keys';
import { PROFILE_ROWS } from '../protocol/profiles';
import { JWKS_PATH } from '../signing/jwks.controller';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/**
 * RFC 8414 §2 subset for revocation and introspection: where the endpoints are and how clients can
 * authenticate to them.
 * It advertises only what works with this configuration: mutual TLS only when a certificate can
 * reach the gateway, and `revocation_endpoint` only while the rfc7009 route is served. RFC 8414
 * defines it as an RFC 7009 endpoint, whose success is 200 (§2.2); the fapi route answers 204,
 * which RFC 7009 clients report as a failure (zitadel/oidc does: test/interop), so it is never
 * advertised in its place.
 */
@Controller()
export class MetadataController {
  private readonly metadata: Record<string, unknown>;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(SigningKeys) signing: SigningKeys) {
    const mutualTls = config.tls !== undefined || (config.mtlsClientCertHeader !== undefined && config.trustedProxies.length > 0);
    const contract = config.profiles.has('rfc7009') ? PROFILE_ROWS.rfc7009 : undefined;
    const introspection = config.profiles.has('introspect') ? PROFILE_ROWS.introspect : undefined;
    const served = (methods: readonly string[]) =>
      methods.filter((method) => mutualTls || (method !== 'tls_client_auth' && method !== 'self_signed_tls_client_auth'));
    this.metadata = {
      issuer: config.issuer,
      // RFC 8414 §2: where the keys that sign the gateway's answers are (docs/api.md §13).
      jwks_uri: config.issuer + JWKS_PATH,
      ...(contract
        ? {
            revocation_endpoint: config.issuer + contract.route,
            revocation_endpoint_auth_methods_supported: served(contract.methods),
            revocation_endpoint_auth_signing_alg_values_supported: contract.algorithms,
          }
        : {}),
      // docs/api.md §11.2 (RFC 8414 §2 introspection members).
      ...(introspection
        ? {
            introspection_endpoint: config.issuer + introspection.route,
            introspection_endpoint_auth_methods_supported: served(introspection.methods),
            introspection_endpoint_auth_signing_alg_values_supported: introspection.algorithms,
            // RFC 9701 §7: how signed introspection answers are signed.
            introspection_signing_alg_values_supported: [signing.alg],
          }
        : {}),
    };
  }

  @Get(METADATA_PATH)
  get(): Record<string, unknown> {
    return this.metadata;
  }
}
