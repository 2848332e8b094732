import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { CallerSteps, endpointPolicy, type EndpointSpec } from '../protocol/caller-steps';
import type { FormBody } from '../protocol/form';
import { answerFor, revocationRow, type RevocationProfile, type RevocationRow } from '../protocol/profiles';
import { ProtocolError } from '../protocol/protocol-error';
import { looksLikeAccessToken } from '../access-tokens/access-token-claims';
import { answeringFailures } from '../tokens/standing-failures';
import { TokenStanding } from '../tokens/token-standing';
import { UpstreamPropagation } from '../upstream/propagation';
import { RevocationEngine } from './revocation-engine';
import type { RevocationTarget } from './revocation-params';
import { hashToken } from './token-hash';

/** A revocation profile's row with what the configuration adds to it, made once per route. */
export interface ProfileSpec extends EndpointSpec<RevocationProfile, RevocationRow> {
  readonly target: (form: FormBody) => RevocationTarget;
}

export function profileSpec(profile: RevocationProfile, config: AppConfig): ProfileSpec {
  const row = revocationRow(profile);
  return { profile, row, policy: endpointPolicy(profile, config), target: (form) => row.target(form, config.defaultLevel) };
}

/**
 * A revocation request's steps, in order, for every profile (oidc-provider's revocation action):
 * the first five are every profile's (CallerSteps), the rest the revocation's own. The profile
 * row decides what differs: which checks apply, where the tenant is read, which credentials are
 * accepted, what is revoked and how each outcome is answered.
 */
@Injectable()
export class RevocationPipeline {
  constructor(
    private readonly caller: CallerSteps,
    private readonly engine: RevocationEngine,
    private readonly standing: TokenStanding,
    @Inject(UpstreamPropagation) private readonly upstream: UpstreamPropagation | null,
  ) {}

  /** Answers with the profile's success body (none for an empty one), or throws its refusal. */
  async revoke(request: FastifyRequest, spec: ProfileSpec): Promise<Readonly<Record<string, string>> | undefined> {
    const { row } = spec;
    // 1–5. Header checks, tenant, form shape, client authentication, the client's budget.
    const { context, tenant, form, client } = await this.caller.admit(request, spec);
    // 6. The profile's own parameters.
    const target = spec.target(form);
    // 7. The revocation: one statement, with its audit row (and outbox row).
    const common = { tenant, clientId: client.clientId, interactionId: context.interactionId, profile: spec.profile, psuIp: context.psuIp };
    let outcome;
    if (target.kind === 'consent') {
      ({ outcome } = await this.engine.revokeConsent({ ...common, consentId: target.consentId }));
    } else {
      // A token the gateway may know without its registration — a JWT access token (docs/api.md
      // §11.3), and with the overlay any token (docs/api.md §11.4) — is read first: keys or an
      // upstream that fail are a 502/504 with nothing recorded. Any other token is one statement.
      const read =
        looksLikeAccessToken(target.token) || this.standing.overlayFor(tenant)
          ? await answeringFailures('gateway', () => this.standing.read(tenant, target.token, context.interactionId))
          : undefined;
      // With the overlay, a token unknown here and upstream is not propagated (docs/api.md §11.4).
      const unknownUpstream = this.standing.overlayFor(tenant) && !read?.token;
      const outbox = row.propagates && !unknownUpstream ? this.upstream?.entry(target.token, tenant, target.hint) : undefined;
      const request = { ...common, tokenHash: read?.hash ?? hashToken(target.token), levels: target.levels, outbox };
      const unregistered = read?.token && read.token.origin !== 'registered' ? read.token : undefined;
      const result = unregistered ? await this.engine.revokeUnregistered(request, unregistered) : await this.engine.revoke(request);
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
