import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { mediaQuality } from '../fapi/accept';
import { Metrics } from '../metrics/metrics';
import { CallerSteps, endpointPolicy, type EndpointSpec } from '../protocol/caller-steps';
import { profileRow, type IntrospectionRow } from '../protocol/profiles';
import { requiredToken } from '../revocation/revocation-params';
import { SigningKeys } from '../signing/signing-keys';
import { TokenStanding } from '../tokens/token-standing';
import { answeringFailures } from '../tokens/standing-failures';
import { INACTIVE, numericDate, registeredTokenAnswer, type IntrospectionAnswer } from './introspection-answer';

/** RFC 9701 §4: the media type a resource server asks for to get a signed answer. */
export const INTROSPECTION_JWT = 'application/token-introspection+jwt';

/** What the controller sends: the JSON answer, or the RFC 9701 JWT that carries it. */
export type IntrospectionReply = { readonly type: 'json'; readonly body: IntrospectionAnswer } | { readonly type: 'jwt'; readonly body: string };

export function introspectionSpec(config: AppConfig): EndpointSpec<'introspect', IntrospectionRow> {
  return { profile: 'introspect', row: profileRow('introspect') as IntrospectionRow, policy: endpointPolicy('introspect', config) };
}

/**
 * RFC 9701 §4: a signed answer when the resource server names its media type and does not rank
 * JSON above it; any other `Accept` gets JSON (docs/api.md §11.2: no 406 here).
 */
export function wantsSignedAnswer(accept: string | undefined): boolean {
  const jwt = mediaQuality(accept, INTROSPECTION_JWT, { wildcards: false });
  return jwt > 0 && jwt >= mediaQuality(accept, 'application/json');
}

/**
 * An introspection request's steps, in order (docs/api.md §11.2): the first five are every
 * profile's (CallerSteps: headers, tenant, form shape, a resource server's credentials, its
 * budget), then the token, its standing, and the answer. A failure on the way is an error
 * answer (503 for the database, 500 otherwise), never an `active` one.
 */
@Injectable()
export class IntrospectionPipeline {
  private readonly spec: EndpointSpec<'introspect', IntrospectionRow>;

  constructor(
    private readonly caller: CallerSteps,
    private readonly standing: TokenStanding,
    private readonly signing: SigningKeys,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.spec = introspectionSpec(config);
  }

  async introspect(request: FastifyRequest): Promise<IntrospectionReply> {
    // 1–5. Header checks, tenant, form shape, client authentication (resource servers), the budget.
    const { context, tenant, form, client } = await this.caller.admit(request, this.spec);
    // 6. RFC 7662 §2.1: `token` is REQUIRED; `token_type_hint` only orders a lookup, and one probe
    // by hash covers every type, so it is not read (CallerSteps has refused it repeated).
    const token = requiredToken(form);
    // 7. The token's standing: registered, a JWT access token (docs/api.md §11.3), or the
    // upstream's answer (docs/api.md §11.4); from memory when it can be trusted (docs/api.md
    // §11.6), else one lookup by primary key. Keys or an upstream that fail are a 502/504, never
    // an inactive answer.
    const known = await answeringFailures('gateway', () => this.standing.of(tenant, token, context.interactionId));
    const answer = known ? registeredTokenAnswer(known, this.config.issuer) : INACTIVE;
    // 8. RFC 9701 §5: the answer as the `token_introspection` claim of a JWT signed by the
    // gateway, addressed to the resource server that asked.
    let reply: IntrospectionReply = { type: 'json', body: answer };
    if (wantsSignedAnswer(request.headers.accept)) {
      const claims = { iss: this.config.issuer, aud: client.clientId, iat: numericDate(new Date()), token_introspection: answer };
      reply = { type: 'jwt', body: await this.signing.sign(claims, 'token-introspection+jwt') };
    }
    // Counted once the answer exists: a signing failure is a 500, not an answer.
    this.metrics.introspections.inc({ result: answer.active ? 'active' : 'inactive' });
    return reply;
  }
}
