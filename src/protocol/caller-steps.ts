import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator, type AuthenticatedClient, type AuthPolicy } from '../client-auth/client-authenticator';
import type { AppConfig } from '../config/config';
import { acceptsJson } from '../fapi/accept';
import { checkFapiHeaders } from '../fapi/fapi-headers';
import { rejectRepeatedParameters } from '../revocation/revocation-params';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { Throttle, UNKNOWN_SOURCE } from '../throttling/throttle';
import type { FormBody } from './form';
import { profileRow, type EndpointRow, type ProfileName } from './profiles';
import { ProtocolError } from './protocol-error';
import { requestContext, type RequestContext } from './request-context';

/** A profile row with what the configuration adds to it, made once per route. */
export interface EndpointSpec<P extends ProfileName = ProfileName, R extends EndpointRow = EndpointRow> {
  readonly profile: P;
  readonly row: R;
  readonly policy: AuthPolicy;
}

/** ISSUER and the endpoint URL are both acceptable `aud` values (docs/api.md §5). */
export function endpointPolicy(profile: ProfileName, config: AppConfig): AuthPolicy {
  const row = profileRow(profile);
  return { role: row.clientRole, methods: row.methods, algorithms: row.algorithms, audiences: [config.issuer, config.issuer + row.route] };
}

/** Who is calling, once the first steps have admitted the request. */
export interface Caller {
  readonly context: RequestContext;
  readonly tenant: string;
  readonly form: FormBody;
  readonly client: AuthenticatedClient;
}

/**
 * The first steps of every profile's request, revocation or introspection, in order. Before them,
 * for every request (src/protocol/request-steps.ts): request log, interaction id, metrics, IP
 * throttle, routing (404, 405), the form parser. After them, the endpoint's own work
 * (RevocationPipeline, IntrospectionPipeline).
 */
@Injectable()
export class CallerSteps {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clientAuth: ClientAuthenticator,
    private readonly throttle: Throttle,
  ) {}

  async admit(request: FastifyRequest, { row, policy }: EndpointSpec): Promise<Caller> {
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
    // 4. RFC 7009 §2.1 / RFC 7662 §2.1: the client's credentials, and its role (docs/api.md §11.1).
    const client = await this.clientAuth.authenticate(request, tenant, policy);
    context.clientId = client.clientId;
    // 5. docs/api.md §7, §11.1: the client's budget (a public client's per source address).
    await this.throttle.client(tenant, client.clientId, policy.role, client.confidential ? undefined : (context.sourceAddress ?? UNKNOWN_SOURCE));
    return { context, tenant, form, client };
  }
}
