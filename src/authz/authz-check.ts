import { createHash, randomUUID, timingSafeEqual, X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientCertificates } from '../client-auth/mtls';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { TENANT_NAME } from '../tenancy/tenant-name';
import { answeringFailures } from '../tokens/standing-failures';
import type { RegisteredToken } from '../tokens/token-lookup';
import { TokenStanding } from '../tokens/token-standing';
import { bearerToken } from './bearer';
import { notActive } from './not-active';
import { credentialHeaders } from './credential-headers';

/**
 * The enforcement check (docs/api.md §11.5): may the request an API gateway is holding go on?
 * Its steps, in order: the caller (only with AUTHZ_CHECK_TOKEN), the bearer token, its tenant,
 * its standing, its binding to the client certificate. Anything that cannot be decided is an
 * error, never an allow: the gateway in front fails closed.
 */
@Injectable()
export class AuthzCheck {
  private readonly callerToken?: Buffer;

  constructor(
    private readonly standing: TokenStanding,
    private readonly certificates: ClientCertificates,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.callerToken = config.authzCheckToken === undefined ? undefined : digest(config.authzCheckToken);
  }

  /** The `x-credential-*` headers of an allowed request; a refusal is thrown (401, 403, 503). */
  async decide(request: FastifyRequest): Promise<Record<string, string>> {
    // 1. The caller, when the operator names one: compared as SHA-256 digests, in constant time.
    if (this.callerToken) {
      const presented = request.headers['x-authz-check-token'];
      if (typeof presented !== 'string' || !timingSafeEqual(digest(presented), this.callerToken)) {
        throw new ProtocolError('access_denied', 'the caller of the check is not known', { detail: 'x-authz-check-token missing or wrong' });
      }
    }
    // 2. RFC 6750 §2.1: the access token from the Authorization header; nothing else is read.
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw notActive();
    // 3. The tenant: Tenant-ID, else default. A name no tenant can have holds no token.
    const tenantHeader = request.headers['tenant-id'];
    const tenant = tenantHeader === undefined ? 'default' : tenantHeader;
    if (typeof tenant !== 'string' || !TENANT_NAME.test(tenant)) throw notActive();
    const context = requestContext(request.raw);
    if (context) context.tenant = tenant;
    // 4. Its standing: a registered access token or a JWT access token (docs/api.md §11.3) that is
    // neither expired nor revoked, from memory when it can be trusted (docs/api.md §11.6). A
    // database failure, or access-token keys that cannot be fetched, is a 503 (docs/api.md §10):
    // the check fails closed.
    const registered = await answeringFailures('unavailable', () => this.standing.of(tenant, token, context?.interactionId ?? randomUUID()));
    if (!registered?.active || registered.tokenType !== 'access_token') throw notActive();
    if (context) context.clientId = registered.clientId;
    // 5. RFC 8705 §3: a certificate-bound token only with that certificate.
    this.checkBinding(request, registered);
    return credentialHeaders(registered);
  }

  private checkBinding(request: FastifyRequest, token: RegisteredToken): void {
    // An upstream's token bound in a way the check cannot verify is not let through as a bearer token.
    if (token.upstreamAnswer?.cnf !== undefined && token.cnf === null) throw notActive('upstream token with a confirmation the check cannot verify');
    const expected = token.cnf?.['x5t#S256'];
    if (expected === undefined) return;
    const presented = this.certificates.presented(request);
    if (!presented) throw notActive('certificate-bound token without a client certificate from a trusted proxy');
    if (thumbprint(presented.certificate) !== expected) throw notActive('certificate-bound token with another certificate');
  }
}

/** RFC 8705 §3.1: `x5t#S256` is the base64url SHA-256 of the certificate's DER. */
export function thumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
