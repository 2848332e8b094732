import type { FastifyRequest } from 'fastify';
import { FAPI_ALGORITHMS, PLAIN_ALGORITHMS } from '../client-auth/client-assertion';
import { AUTH_METHODS, type AuthMethod, type ClientRole } from '../client-auth/credentials';
import { arrangementTarget, oamTarget, tokenTarget, type TargetReader } from '../revocation/revocation-params';
import type { ErrorCode } from './protocol-error';
import { ERROR_SHAPES, type ErrorShape } from './renderers';

/** A form parameter of a profile, as the OpenAPI document describes it. */
export interface FormParameter {
  readonly name: string;
  readonly required: boolean;
  readonly description: string;
  readonly values?: readonly string[];
}

/** An outcome answered as an error: its wire code (which decides the status) and description. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly description: string;
}

/** How a profile answers an outcome: as its success, or refused. */
export type Answer = 'success' | Refusal;

/**
 * Where the tenant of a request is read, in order (docs/api.md §8): the `Tenant-ID` header, the
 * `Issuer` header, OAM's `x-oauth-identity-domain-name` header and its `identityDomain` query
 * parameter. The first one present decides; none present is `default`.
 */
export type TenantSelector = 'tenant-id' | 'issuer' | 'identity-domain-header' | 'identity-domain-query';

/**
 * What every endpoint of the public port's profiles has (docs/api.md §2, §11.2): everything that
 * tells one from another before its own work. The pipelines run the same steps for all of them;
 * the controllers, the metadata, the OpenAPI document, the error filter and the metrics all read
 * these rows.
 */
export interface EndpointRow {
  readonly route: string;
  readonly summary: string;
  /** docs/api.md §4: an `Accept` that refuses JSON is a 406. */
  readonly acceptsJsonOnly: boolean;
  readonly tenantSelectors: readonly TenantSelector[];
  /** docs/api.md §11.1: the clients the endpoint serves; any other is a 401 `invalid_client`. */
  readonly clientRole: ClientRole;
  /** Client authentication methods (docs/api.md §5) and client assertion algorithms. */
  readonly methods: readonly AuthMethod[];
  readonly algorithms: readonly string[];
  readonly parameters: readonly FormParameter[];
  readonly errors: ErrorShape;
}

/** A revocation wire profile (docs/api.md §2), run by the revocation pipeline. */
export interface RevocationRow extends EndpointRow {
  readonly kind: 'revocation';
  /** The answer to a revoked (or already revoked: revocation is idempotent) token or arrangement. */
  readonly success: { readonly status: 200 | 204; readonly body?: Readonly<Record<string, string>> };
  /** A token or arrangement the gateway does not know. */
  readonly unknown: Answer;
  /** One that belongs to another client of the tenant. */
  readonly foreign: Answer;
  /** Another client's token presented by a public client, when that differs from `foreign`. */
  readonly foreignToPublicClient?: Answer;
  /** Reads what to revoke from the form, after client authentication. */
  readonly target: TargetReader;
  /** docs/api.md §6: propagated upstream (502/504) when UPSTREAM_REVOCATION_URL is set. */
  readonly propagates: boolean;
}

/** RFC 7662 introspection (docs/api.md §11.2), run by the introspection pipeline: its answer is the token's standing. */
export interface IntrospectionRow extends EndpointRow {
  readonly kind: 'introspection';
}

export type ProfileRow = RevocationRow | IntrospectionRow;

const TOKEN: FormParameter = { name: 'token', required: true, description: 'The token to revoke (at most 8192 characters).' };
const HINT: FormParameter = {
  name: 'token_type_hint',
  required: false,
  description: 'Orders the lookup; a miss searches every type.',
  values: ['access_token', 'refresh_token'],
};
const CLIENT_AUTH: readonly FormParameter[] = [
  {
    name: 'client_id',
    required: false,
    description: 'Public clients, client_secret_post, mutual TLS; must match the assertion or Basic header when sent with them.',
  },
  { name: 'client_secret', required: false, description: 'client_secret_post.' },
  { name: 'client_assertion_type', required: false, description: 'private_key_jwt: urn:ietf:params:oauth:client-assertion-type:jwt-bearer.' },
  { name: 'client_assertion', required: false, description: 'private_key_jwt: a signed JWT (RFC 7523).' },
];
const WITHOUT_SECRET = CLIENT_AUTH.filter((p) => p.name !== 'client_secret');
const WITHOUT_PUBLIC: readonly FormParameter[] = [
  { ...CLIENT_AUTH[0], description: 'client_secret_post, mutual TLS; must match the assertion or Basic header when sent with them.' },
  ...CLIENT_AUTH.slice(1),
];
/** FAPI 1.0 Advanced §5.2.2-14: only private_key_jwt and mutual TLS. */
const MTLS_OR_JWT: readonly AuthMethod[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
const HEADER_SELECTORS: readonly TenantSelector[] = ['tenant-id', 'issuer'];
const NOT_THIS_CLIENTS: Refusal = { code: 'invalid_request', description: 'the token was not issued to this client' };

/** The profiles: adding one is a row here (and an error shape in renderers.ts if it has its own). */
export const PROFILE_ROWS = {
  rfc7009: {
    kind: 'revocation',
    route: '/token/revoke',
    summary: 'RFC 7009 token revocation',
    success: { status: 200 },
    // RFC 7009 §2.2: "invalid tokens do not cause an error response".
    unknown: 'success',
    // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    // revocation request. If this validation fails, the request is refused". A public client
    // cannot prove who it is, so it learns nothing (docs/api.md §2): 200, nothing revoked.
    foreign: NOT_THIS_CLIENTS,
    foreignToPublicClient: 'success',
    acceptsJsonOnly: false,
    tenantSelectors: HEADER_SELECTORS,
    target: tokenTarget('lenient'),
    clientRole: 'tpp',
    methods: AUTH_METHODS,
    algorithms: PLAIN_ALGORITHMS,
    parameters: [
      TOKEN,
      { name: 'token_type_hint', required: false, description: `access_token or refresh_token. ${HINT.description} Other values are ignored (RFC 7009 §2.2).` },
      ...CLIENT_AUTH,
    ],
    propagates: true,
    errors: ERROR_SHAPES.rfc7009,
  },
  fapi: {
    kind: 'revocation',
    route: '/token/revocation',
    summary: 'FAPI token revocation (private_key_jwt or mutual TLS)',
    success: { status: 204 },
    unknown: { code: 'not_found', description: 'token not found' },
    foreign: { code: 'not_found', description: 'token not found' },
    acceptsJsonOnly: true,
    tenantSelectors: HEADER_SELECTORS,
    target: tokenTarget('strict'),
    clientRole: 'tpp',
    methods: MTLS_OR_JWT,
    algorithms: FAPI_ALGORITHMS,
    parameters: [TOKEN, { ...HINT, description: `${HINT.description} Other values are a 400.` }, ...WITHOUT_SECRET],
    propagates: true,
    errors: ERROR_SHAPES.fapi,
  },
  oam: {
    kind: 'revocation',
    route: '/oauth2/rest/token/revoke',
    summary: 'Oracle Access Manager token revocation',
    success: { status: 200, body: { status: 'success' } },
    unknown: 'success',
    foreign: NOT_THIS_CLIENTS,
    acceptsJsonOnly: false,
    tenantSelectors: [...HEADER_SELECTORS, 'identity-domain-header', 'identity-domain-query'],
    target: oamTarget,
    clientRole: 'tpp',
    methods: AUTH_METHODS,
    algorithms: PLAIN_ALGORITHMS,
    parameters: [
      TOKEN,
      { name: 'token_type_hint', required: false, description: 'Default NONE.', values: ['ACCESS_TOKEN', 'REFRESH_TOKEN', 'NONE'] },
      {
        name: 'revocation_level',
        required: false,
        description: 'What else is revoked; default NONE (or REVOCATION_DEFAULT_LEVEL when the operator sets it).',
        values: ['NONE', 'RELATED_TOKENS', 'RELATED_CONSENT'],
      },
      ...CLIENT_AUTH,
    ],
    propagates: true,
    errors: ERROR_SHAPES.oam,
  },
  idv1: {
    kind: 'revocation',
    route: '/api/id/v1/auth/token/revoke',
    summary: '/api/id/v1 token revocation',
    success: { status: 200 },
    unknown: 'success',
    foreign: NOT_THIS_CLIENTS,
    acceptsJsonOnly: false,
    tenantSelectors: HEADER_SELECTORS,
    target: tokenTarget('strict'),
    clientRole: 'tpp',
    methods: AUTH_METHODS,
    algorithms: PLAIN_ALGORITHMS,
    parameters: [TOKEN, { ...HINT, description: `${HINT.description} Other values are a 400.` }, ...CLIENT_AUTH],
    propagates: true,
    errors: ERROR_SHAPES.idv1,
  },
  cdr: {
    kind: 'revocation',
    route: '/arrangements/revoke',
    summary: 'CDR arrangement revocation: the consent and every token under it',
    success: { status: 204 },
    unknown: { code: 'invalid_arrangement', description: 'the arrangement is not known for this client' },
    foreign: { code: 'invalid_arrangement', description: 'the arrangement is not known for this client' },
    acceptsJsonOnly: false,
    tenantSelectors: HEADER_SELECTORS,
    target: arrangementTarget,
    clientRole: 'tpp',
    methods: ['private_key_jwt'],
    algorithms: FAPI_ALGORITHMS,
    parameters: [{ name: 'cdr_arrangement_id', required: true, description: 'The arrangement (consent) to withdraw.' }, ...WITHOUT_SECRET],
    // A CDR arrangement is the gateway's own record: nothing to tell an upstream server.
    propagates: false,
    errors: ERROR_SHAPES.cdr,
  },
  introspect: {
    kind: 'introspection',
    route: '/token/introspect',
    summary: 'RFC 7662 token introspection, for resource servers',
    acceptsJsonOnly: false,
    tenantSelectors: HEADER_SELECTORS,
    clientRole: 'resource_server',
    // docs/api.md §11.1: a resource server proves who it is; never a public client.
    methods: AUTH_METHODS.filter((method) => method !== 'none'),
    algorithms: PLAIN_ALGORITHMS,
    parameters: [
      { name: 'token', required: true, description: 'The token to introspect (at most 8192 characters).' },
      { name: 'token_type_hint', required: false, description: 'Any value; it only orders the lookup (RFC 7662 §2.1).' },
      ...WITHOUT_PUBLIC,
    ],
    errors: ERROR_SHAPES.rfc7009,
  },
} as const satisfies Record<string, ProfileRow>;

/** The wire contracts the gateway speaks (docs/api.md §2, §11.2), in the order of PROFILE_ROWS. */
export type ProfileName = keyof typeof PROFILE_ROWS;
export const PROFILE_NAMES = Object.keys(PROFILE_ROWS) as readonly ProfileName[];

/** The profiles that revoke. */
export type RevocationProfile = { [P in ProfileName]: (typeof PROFILE_ROWS)[P]['kind'] extends 'revocation' ? P : never }[ProfileName];
export const REVOCATION_PROFILES = PROFILE_NAMES.filter((profile): profile is RevocationProfile => PROFILE_ROWS[profile].kind === 'revocation');

/** Audit-only pseudo-profile for admin bulk revocations. */
export type AuditProfile = RevocationProfile | 'admin';

/** Rows typed as rows (the literal types of PROFILE_ROWS say more than a reader needs). */
export function profileRow(profile: ProfileName): ProfileRow {
  return PROFILE_ROWS[profile];
}

export function revocationRow(profile: RevocationProfile): RevocationRow {
  return PROFILE_ROWS[profile];
}

const profileByRoute = new Map<string, ProfileName>(PROFILE_NAMES.map((profile) => [PROFILE_ROWS[profile].route, profile]));

/**
 * The profile whose route the router matched for this request, if any. Never decided on the raw
 * URL: the router percent-decodes it and strips an absolute-form prefix (`http://host/…`) before
 * it matches, so `/token/%72evoke` is the rfc7009 route and must be labelled, shaped and
 * throttled as such.
 */
export function matchedProfile(request: FastifyRequest): ProfileName | undefined {
  const route = request.routeOptions.url;
  return route === undefined ? undefined : profileByRoute.get(route);
}

/** How a profile answers an outcome of the revocation: its success body, or it throws its refusal. */
export function answerFor(row: RevocationRow, outcome: 'revoked' | 'unknown' | 'foreign', confidentialClient: boolean): Answer {
  if (outcome === 'revoked') return 'success';
  if (outcome === 'unknown') return row.unknown;
  return (!confidentialClient && row.foreignToPublicClient) || row.foreign;
}
