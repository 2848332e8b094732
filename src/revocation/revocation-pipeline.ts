import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator, type AuthPolicy } from '../client-auth/client-authenticator';
import type { AppConfig } from '../config/config';
import { acceptsJson } from '../fapi/accept';
import { checkFapiHeaders } from '../fapi/fapi-headers';
import type { FormBody } from '../protocol/form';
import { answerFor, profileRow, type ProfileName, type ProfileRow } from '../protocol/profiles';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { Throttle, UNKNOWN_SOURCE } from '../throttling/throttle';
import { UpstreamPropagation } from '../upstream/propagation';
import { RevocationEngine } from './revocation-engine';
import { rejectRepeatedParameters, type RevocationTarget } from './revocation-params';
import { hashToken } from './token-hash';

/** A profile row with what the configuration adds to it, made once per route. */
export interface ProfileSpec {
  readonly profile: ProfileName;
  readonly row: ProfileRow;
  readonly policy: AuthPolicy;
  readonly target: (form: FormBody) => RevocationTarget;
}

/** ISSUER and the endpoint URL are both acceptable `aud` values (docs/api.md §5). */
export function profileSpec(profile: ProfileName, config: AppConfig): ProfileSpec {
  const row = profileRow(profile);
  return {
    profile,
    row,
    policy: { role: row.clientRole, methods: row.methods, algorithms: row.algorithms, audiences: [config.issuer, config.issuer + row.route] },
    target: (form) => row.target(form, config.defaultLevel),
  };
}

/**
 * A revocation request's steps, in order, for every profile (oidc-provider's revocation action).
 * Before them, for every request (src/protocol/request-steps.ts): request log, interaction id,
 * metrics, IP throttle, routing (404, 405), the form parser. The profile row decides what differs: which checks apply,
 * where the tenant is read, which credentials are accepted, what is revoked and how each outcome
 * is answered.
 */
@Injectable()
export class RevocationPipeline {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clientAuth: ClientAuthenticator,
    private readonly throttle: Throttle,
    private readonly engine: RevocationEngine,
    @Inject(UpstreamPropagation) private readonly upstream: UpstreamPropagation | null,
  ) {}

  /** Answers with the profile's success body (none for an empty one), or throws its refusal. */
  async revoke(request: FastifyRequest, spec: ProfileSpec): Promise<Readonly<Record<string, string>> | undefined> {
    const { row } = spec;
    const context = requestContext(request.raw)!;
    // 1. docs/api.md §4: the cheap header checks, before any database or crypto work.
    if (row.acceptsJsonOnly && !acceptsJson(request.headers.accept)) {
      throw new ProtocolError('not_acceptable', 'the response is only available as application/json');
    }
    const fapi = checkFapiHeaders(request.headers);
    if ('invalid' in fapi) {
      context.rejectedHeader = fapi.invalid;
      throw ProtocolError.invalidRequest(`${fapi.invalid} is malformed`);
    }
    context.psuIp = fapi.customerIp;
    // 2. docs/api.md §8: the tenant.
    const tenant = (context.tenant = await this.tenants.resolve(request, row.tenantSelectors));
    // 3. RFC 6749 §3.2: the form's shape.
    const form = (request.body ?? {}) as FormBody;
    rejectRepeatedParameters(form);
    // 4. RFC 7009 §2.1: "The authorization server first validates the client credentials".
    const client = await this.clientAuth.authenticate(request, tenant, spec.policy);
    context.clientId = client.clientId;
    // 5. docs/api.md §7: the client's budget (a public client's per source address).
    await this.throttle.client(tenant, client.clientId, client.confidential ? undefined : (context.sourceAddress ?? UNKNOWN_SOURCE));
    // 6. The profile's own parameters.
    const target = spec.target(form);
    // 7. The revocation: one statement, with its audit row (and outbox row).
    const common = { tenant, clientId: client.clientId, interactionId: context.interactionId, profile: spec.profile, psuIp: context.psuIp };
    let outcome;
    if (target.kind === 'consent') {
      ({ outcome } = await this.engine.revokeConsent({ ...common, consentId: target.consentId }));
    } else {
      const outbox = row.propagates ? this.upstream?.entry(target.token, tenant, target.hint) : undefined;
      const result = await this.engine.revoke({ ...common, tokenHash: hashToken(target.token), levels: target.levels, outbox });
      outcome = result.outcome;
      // 8. docs/api.md §6: the caller's answer waits for the upstream (502/504 when it fails; the
      // local revocation and the outbox row stand). On success the answer is the profile's for
      // the local outcome (docs/api.md §2): an RFC 7009 upstream says 200 for unknown tokens too,
      // so its 2xx cannot tell that a token unknown here existed there.
      if (result.propagation && this.upstream) {
        await this.upstream.deliverNow(result.propagation, target.token, context.interactionId, outcome !== 'unknown');
      }
    }
    // 9. The profile's answer to the outcome.
    const answer = answerFor(row, outcome, client.confidential);
    if (answer !== 'success') throw new ProtocolError(answer.code, answer.description);
    return row.success.body;
  }
}
