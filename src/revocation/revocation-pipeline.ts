import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator, type AuthenticatedClient, type AuthPolicy } from '../client-auth/client-authenticator';
import { presentedCertificate, TrustedProxies } from '../client-auth/mtls';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import type { FormBody } from '../protocol/form';
import { PROFILE_ROUTES, type ProfileName } from '../protocol/profiles';
import { requestContext } from '../protocol/request-context';
import { defaultLevels, type LevelByType } from './levels';
import { RevocationEngine, type RevocationResult } from './revocation-engine';
import { rejectRepeatedParameters, requiredToken, tokenTypeHint } from './revocation-params';
import { hashToken } from './token-hash';

/** What distinguishes one profile's pipeline from another's; the steps are the same. */
export interface ProfileSpec {
  readonly profile: ProfileName;
  readonly policy: AuthPolicy;
  /** RFC 7009 §2.2 lets a server ignore an unknown hint; FAPI-style profiles refuse it. */
  readonly hint: 'lenient' | 'strict';
}

/** ISSUER and the endpoint URL are both acceptable `aud` values of a client assertion (CONTRACT §5). */
export function profileSpec(config: AppConfig, profile: ProfileName, methods: AuthPolicy['methods'], algorithms: readonly string[], hint: ProfileSpec['hint']): ProfileSpec {
  return { profile, hint, policy: { methods, algorithms, audiences: [config.issuer, config.issuer + PROFILE_ROUTES[profile]] } };
}

/**
 * The revocation endpoint as one ordered pipeline (oidc-provider's revocation action): form shape
 * → client authentication → token parameters → the one-statement revocation. Each profile's
 * controller decides only how the outcome is answered.
 */
@Injectable()
export class RevocationPipeline {
  private readonly levels: LevelByType;

  constructor(
    private readonly clientAuth: ClientAuthenticator,
    private readonly engine: RevocationEngine,
    private readonly proxies: TrustedProxies,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.levels = defaultLevels(config.defaultLevel);
  }

  async revoke(request: FastifyRequest, spec: ProfileSpec): Promise<{ client: AuthenticatedClient; result: RevocationResult }> {
    const form = (request.body ?? {}) as FormBody;
    const context = requestContext(request.raw)!;
    context.tenant = 'default';
    rejectRepeatedParameters(form);
    const certificate = presentedCertificate(request, {
      header: this.config.mtlsClientCertHeader,
      proxies: this.proxies,
      trustAnchors: this.config.tls?.caFile !== undefined,
    });
    const client = await this.clientAuth.authenticate({ headers: request.headers, form, certificate }, context.tenant, spec.policy);
    context.clientId = client.clientId;
    const token = requiredToken(form);
    tokenTypeHint(form, spec.hint);

    const result = await this.engine.revoke({
      tenant: context.tenant,
      tokenHash: hashToken(token),
      clientId: client.clientId,
      levels: this.levels,
      interactionId: context.interactionId,
      profile: spec.profile,
      psuIp: context.psuIp,
    });
    return { client, result };
  }
}
