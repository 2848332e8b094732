import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator, type AuthenticatedClient, type AuthPolicy } from '../client-auth/client-authenticator';
import { presentedCertificate, TrustedProxies } from '../client-auth/mtls';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import type { FormBody } from '../protocol/form';
import { PROFILE_ROWS, type ProfileContract } from '../protocol/profile-contracts';
import type { ProfileName } from '../protocol/profiles';
import { requestContext } from '../protocol/request-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { Metrics } from '../metrics/metrics';
import { Throttle, UNKNOWN_SOURCE } from '../throttling/throttle';
import { UpstreamPropagation } from '../upstream/propagation';
import { defaultLevels, type LevelByType } from './levels';
import { RevocationEngine, type RevocationResult } from './revocation-engine';
import { rejectRepeatedParameters, requiredToken, tokenTypeHint } from './revocation-params';
import { hashToken } from './token-hash';
import type { TokenType } from './token-types';

/** What a request asks to revoke, once its profile has read its parameters. */
export type RevocationTarget =
  | { readonly kind: 'token'; readonly token: string; readonly hint?: TokenType; readonly levels: LevelByType }
  | { readonly kind: 'consent'; readonly consentId: string };

/** What distinguishes one profile's pipeline from another's; the steps are the same. */
export interface ProfileSpec {
  readonly profile: ProfileName;
  readonly policy: AuthPolicy;
  /** The profile's own parameter table (docs/api.md §2), read after client authentication. */
  readonly target: (form: FormBody) => RevocationTarget;
}

/** The profile's methods and algorithms; ISSUER and the endpoint URL are both acceptable `aud` values (docs/api.md §5). */
export function authPolicy(config: AppConfig, contract: ProfileContract): AuthPolicy {
  return { methods: contract.methods, algorithms: contract.algorithms, audiences: [config.issuer, config.issuer + contract.route] };
}

/** The spec of a profile that revokes one `token` at the default levels (rfc7009, fapi, idv1). */
export function tokenProfile(config: AppConfig, profile: ProfileName, hint: 'lenient' | 'strict'): ProfileSpec {
  const levels = defaultLevels(config.defaultLevel);
  return {
    profile,
    policy: authPolicy(config, PROFILE_ROWS[profile]),
    target: (form) => {
      const token = requiredToken(form);
      return { kind: 'token', token, hint: tokenTypeHint(form, hint), levels };
    },
  };
}

/**
 * The revocation endpoint as one ordered pipeline (oidc-provider's revocation action): tenant →
 * form shape → client authentication → client throttle → the profile's parameters → the
 * one-statement revocation → propagation upstream. (The IP throttle and the FAPI headers came
 * before, as hook and guard.) Each profile's controller decides only how the outcome is answered.
 */
@Injectable()
export class RevocationPipeline {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clientAuth: ClientAuthenticator,
    private readonly engine: RevocationEngine,
    private readonly proxies: TrustedProxies,
    private readonly throttle: Throttle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UpstreamPropagation) private readonly upstream: UpstreamPropagation | null,
    private readonly metrics: Metrics,
  ) {}

  async revoke(request: FastifyRequest, spec: ProfileSpec): Promise<{ client: AuthenticatedClient; result: RevocationResult }> {
    const form = (request.body ?? {}) as FormBody;
    const context = requestContext(request.raw)!;
    const tenant = (context.tenant = await this.tenants.resolve(request, spec.profile));
    rejectRepeatedParameters(form);
    const certificate = presentedCertificate(request, {
      header: this.config.mtlsClientCertHeader,
      proxies: this.proxies,
      trustAnchors: this.config.tls?.caFile !== undefined,
    });
    const client = await this.clientAuth.authenticate({ headers: request.headers, form, certificate }, tenant, spec.policy);
    context.clientId = client.clientId;
    await this.throttle.client(tenant, client.clientId, client.confidential ? undefined : (context.sourceAddress ?? UNKNOWN_SOURCE));
    const target = spec.target(form);

    const common = { tenant, clientId: client.clientId, interactionId: context.interactionId, profile: spec.profile, psuIp: context.psuIp };
    if (target.kind === 'consent') {
      const result = await this.engine.revokeConsent({ ...common, consentId: target.consentId });
      this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: null });
      return { client, result };
    }

    const outbox = this.upstream?.entry(target.token, tenant, target.hint);
    const result = await this.engine.revoke({ ...common, tokenHash: hashToken(target.token), levels: target.levels, outbox });
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: result.presentedRevoked ? result.tokenType : null });
    // docs/api.md §6: the caller's answer waits for the upstream (502/504 when it fails; the local
    // revocation and the outbox row stand). On success the answer is the profile's for the local
    // outcome (docs/api.md §2): an RFC 7009 upstream says 200 for unknown tokens too, so its 2xx
    // cannot tell that a token unknown here existed there.
    if (result.propagation && this.upstream) {
      await this.upstream.deliverNow(result.propagation, target.token, context.interactionId, result.outcome !== 'unknown');
    }
    return { client, result };
  }
}
