import { FAPI_ALGORITHMS, PLAIN_ALGORITHMS } from '../client-auth/client-assertion';
import { AUTH_METHODS, type AuthMethod } from '../client-auth/credentials';
import { PROFILE_ROUTES, type ProfileName } from './profiles';

/** A form parameter of a profile, as the OpenAPI document and the README describe it. */
export interface FormParameter {
  readonly name: string;
  readonly required: boolean;
  readonly description: string;
  readonly values?: readonly string[];
}

/**
 * docs/api.md §2 as data: one row per profile. Controllers take their success status and accepted
 * methods from here, and the OpenAPI document is generated from it, so the two cannot drift apart.
 */
export interface ProfileContract {
  readonly profile: ProfileName;
  readonly route: string;
  readonly summary: string;
  readonly success: number;
  /** JSON body of a success, when there is one. */
  readonly successBody?: Record<string, unknown>;
  readonly unknown: number;
  readonly foreign: number;
  readonly methods: readonly AuthMethod[];
  readonly algorithms: readonly string[];
  readonly parameters: readonly FormParameter[];
  /** Error statuses the profile answers besides the shared ones (400, 401, 413, 429, 500, 503). */
  readonly extraErrors: readonly number[];
  /** docs/api.md §6: revocations are propagated upstream (502/504) when UPSTREAM_REVOCATION_URL is set; `cdr` stays local. */
  readonly propagates: boolean;
  readonly errorBody: 'rfc7009' | 'fapi' | 'oam' | 'idv1' | 'cdr';
}

const TOKEN: FormParameter = { name: 'token', required: true, description: 'The token to revoke (at most 8192 characters).' };
const HINT: FormParameter = {
  name: 'token_type_hint',
  required: false,
  description: 'Orders the lookup; a miss searches every type.',
  values: ['access_token', 'refresh_token'],
};
const CLIENT_AUTH: readonly FormParameter[] = [
  { name: 'client_id', required: false, description: 'Public clients, client_secret_post, mutual TLS; must match the assertion or Basic header when sent with them.' },
  { name: 'client_secret', required: false, description: 'client_secret_post.' },
  { name: 'client_assertion_type', required: false, description: 'private_key_jwt: urn:ietf:params:oauth:client-assertion-type:jwt-bearer.' },
  { name: 'client_assertion', required: false, description: 'private_key_jwt: a signed JWT (RFC 7523).' },
];
const MTLS_OR_JWT: readonly AuthMethod[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

export const PROFILE_ROWS: Readonly<Record<ProfileName, ProfileContract>> = {
  rfc7009: {
    profile: 'rfc7009',
    route: PROFILE_ROUTES.rfc7009,
    summary: 'RFC 7009 token revocation',
    success: 200,
    unknown: 200,
    foreign: 400,
    methods: AUTH_METHODS,
    algorithms: PLAIN_ALGORITHMS,
    parameters: [
      TOKEN,
      { name: 'token_type_hint', required: false, description: `access_token or refresh_token. ${HINT.description} Other values are ignored (RFC 7009 §2.2).` },
      ...CLIENT_AUTH,
    ],
    extraErrors: [],
    propagates: true,
    errorBody: 'rfc7009',
  },
  fapi: {
    profile: 'fapi',
    route: PROFILE_ROUTES.fapi,
    summary: 'FAPI token revocation (private_key_jwt or mutual TLS)',
    success: 204,
    unknown: 404,
    foreign: 404,
    methods: MTLS_OR_JWT,
    algorithms: FAPI_ALGORITHMS,
    parameters: [TOKEN, { ...HINT, description: `${HINT.description} Other values are a 400.` }, ...CLIENT_AUTH.filter((p) => p.name !== 'client_secret')],
    extraErrors: [404, 406],
    propagates: true,
    errorBody: 'fapi',
  },
  oam: {
    profile: 'oam',
    route: PROFILE_ROUTES.oam,
    summary: 'Oracle Access Manager token revocation',
    success: 200,
    successBody: { status: 'success' },
    unknown: 200,
    foreign: 400,
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
    extraErrors: [],
    propagates: true,
    errorBody: 'oam',
  },
  idv1: {
    profile: 'idv1',
    route: PROFILE_ROUTES.idv1,
    summary: '/api/id/v1 token revocation',
    success: 200,
    unknown: 200,
    foreign: 400,
    methods: AUTH_METHODS,
    algorithms: PLAIN_ALGORITHMS,
    parameters: [TOKEN, { ...HINT, description: `${HINT.description} Other values are a 400.` }, ...CLIENT_AUTH],
    extraErrors: [],
    propagates: true,
    errorBody: 'idv1',
  },
  cdr: {
    profile: 'cdr',
    route: PROFILE_ROUTES.cdr,
    summary: 'CDR arrangement revocation: the consent and every token under it',
    success: 204,
    unknown: 422,
    foreign: 422,
    methods: ['private_key_jwt'],
    algorithms: FAPI_ALGORITHMS,
    parameters: [
      { name: 'cdr_arrangement_id', required: true, description: 'The arrangement (consent) to withdraw.' },
      ...CLIENT_AUTH.filter((p) => p.name !== 'client_secret'),
    ],
    extraErrors: [422],
    propagates: false,
    errorBody: 'cdr',
  },
};
