import type { AppConfig } from '../config/config';
import { PROFILE_ROWS, profileRow, type Answer, type IntrospectionRow, type ProfileName, type ProfileRow, type RevocationRow } from '../protocol/profiles';
import { STATUS_OF_CODE } from '../protocol/protocol-error';
import { ERROR_SHAPES } from '../protocol/renderers';
import { JWKS_PATH } from '../signing/jwks.controller';
import { SIGNING_ALGORITHMS } from '../signing/signing-jwk';
import { METADATA_PATH } from './metadata.controller';

export const OPENAPI_PATH = '/openapi.json';

type Json = Record<string, unknown>;

const SHARED_ERRORS: Record<number, string> = {
  400: 'Malformed request: missing or repeated parameter, bad FAPI header or interaction id, unknown tenant, body not form-encoded.',
  401: 'Client authentication failed (the cause is logged, never returned).',
  413: 'Body over 16 KiB.',
  429: 'Over the per-IP or per-client budget (THROTTLE_*).',
  500: 'Unexpected error.',
  503: 'Database (or replay store) unavailable: the token is not revoked, retry.',
};
/** docs/api.md §6, only when UPSTREAM_REVOCATION_URL is set; the token is revoked here either way. */
const UPSTREAM_ERRORS: Record<number, string> = {
  502: 'Upstream authorization server unreachable, failing, or answering unexpectedly (or its circuit is open). Revoked here; propagation retried from the outbox.',
  504: 'Upstream authorization server timed out, or answered 503/429. Revoked here; propagation retried from the outbox.',
};
const EXTRA_ERRORS: Record<number, string> = {
  404: 'Unknown token, or a token of another client.',
  406: 'Accept refuses application/json.',
  422: 'Unknown arrangement, or an arrangement of another client.',
};

/** A success body of constant strings (oam's `{"status":"success"}`). */
const successSchema = (body: Readonly<Record<string, string>>) => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(body).map(([name, value]) => [name, { const: value }])),
});

const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });
const RESPONSE_HEADERS = {
  'x-fapi-interaction-id': header('The request’s interaction id, or a new UUID.', { type: 'string', format: 'uuid' }),
  'Cache-Control': header('Always no-store.', { type: 'string', const: 'no-store' }),
};
const REQUEST_HEADERS = [
  {
    name: 'x-fapi-interaction-id',
    in: 'header',
    required: false,
    description: 'RFC 9562 UUID; echoed. Anything else is a 400.',
    schema: { type: 'string', format: 'uuid' },
  },
  {
    name: 'x-fapi-auth-date',
    in: 'header',
    required: false,
    description: 'IMF-fixdate of the PSU’s last login.',
    schema: { type: 'string', examples: ['Sun, 22 Nov 2026 17:57:00 GMT'] },
  },
  { name: 'x-fapi-customer-ip-address', in: 'header', required: false, description: 'The PSU’s IPv4 or IPv6 address.', schema: { type: 'string' } },
  {
    name: 'x-customer-user-agent',
    in: 'header',
    required: false,
    description: 'The PSU’s user agent (visible ASCII, at most 512).',
    schema: { type: 'string', maxLength: 512 },
  },
  {
    name: 'Tenant-ID',
    in: 'header',
    required: false,
    description: 'Tenant name; wins over every other selector.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
  },
  { name: 'Issuer', in: 'header', required: false, description: 'Selects the tenant registered with this issuer.', schema: { type: 'string' } },
];

/** docs/api.md §13: public members only (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const JWK_SET_SCHEMA = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      minItems: 1,
      maxItems: 2,
      items: {
        type: 'object',
        required: ['kty', 'kid', 'alg', 'use'],
        properties: {
          kty: { enum: ['EC', 'RSA', 'OKP'] },
          kid: { type: 'string' },
          alg: { enum: [...SIGNING_ALGORITHMS] },
          use: { const: 'sig' },
          crv: { enum: ['P-256', 'Ed25519'] },
          x: { type: 'string' },
          y: { type: 'string' },
          n: { type: 'string' },
          e: { type: 'string' },
        },
        additionalProperties: false,
      },
    },
  },
};

/** The status of an answer: the row's success status, or its refusal's. */
const statusOf = (row: RevocationRow, answer: Answer) => (answer === 'success' ? row.success.status : STATUS_OF_CODE[answer.code]);

/** An error answer: the row's error body, with `Retry-After` and the Basic challenge where they apply. */
function errorResponse(row: ProfileRow, status: number, description: string): Json {
  const errorContent = { 'application/json': { schema: { $ref: `#/components/schemas/${row.errors.name}_error` } } };
  const retry = status === 429 || status === 503 ? { 'Retry-After': header('Seconds to wait.', { type: 'integer' }) } : {};
  const challenge =
    status === 401 && row.methods.includes('client_secret_basic')
      ? { 'WWW-Authenticate': header('Basic realm="revocation", after an Authorization header attempt.') }
      : {};
  return { description, headers: { ...RESPONSE_HEADERS, ...retry, ...challenge }, content: errorContent };
}

function revocationResponses(row: RevocationRow): Json {
  const unknown = statusOf(row, row.unknown);
  const foreign = statusOf(row, row.foreign);
  // Besides the shared ones: the refusals of unknown or foreign tokens, and 406 where Accept is checked.
  const ownErrors = [unknown, foreign, ...(row.acceptsJsonOnly ? [406] : [])].filter((status) => status >= 400 && !(status in SHARED_ERRORS));
  const errorStatuses = [
    ...new Set([...Object.keys(SHARED_ERRORS).map(Number), ...ownErrors, ...(row.propagates ? Object.keys(UPSTREAM_ERRORS).map(Number) : [])]),
  ].sort((a, b) => a - b);
  const responses: Json = {
    [row.success.status]: {
      description: row.unknown === 'success' ? 'Revoked, already revoked, or unknown token.' : 'Revoked or already revoked.',
      headers: RESPONSE_HEADERS,
      ...(row.success.body ? { content: { 'application/json': { schema: successSchema(row.success.body) } } } : {}),
    },
  };
  for (const status of errorStatuses) {
    const description =
      status === foreign && status !== unknown && status === 400
        ? `${SHARED_ERRORS[400]} Also: a token of another client.`
        : (EXTRA_ERRORS[status] ?? UPSTREAM_ERRORS[status] ?? SHARED_ERRORS[status]);
    responses[status] = errorResponse(row, status, description);
  }
  return responses;
}

/** docs/api.md §11.2: the token's standing as JSON or as an RFC 9701 JWT; a failure is never an answer. */
function introspectionResponses(row: IntrospectionRow): Json {
  const responses: Json = {
    200: {
      description: 'The token’s standing: exactly {"active":false} unless it is active.',
      headers: { ...RESPONSE_HEADERS, Vary: header('Accept.') },
      content: {
        'application/json': { schema: INTROSPECTION_SCHEMA },
        'application/token-introspection+jwt': {
          schema: { type: 'string', description: 'RFC 9701: a JWS signed with the key at /jwks.json; claims iss, aud, iat, token_introspection.' },
        },
      },
    },
  };
  for (const status of Object.keys(SHARED_ERRORS).map(Number)) {
    responses[status] = errorResponse(row, status, status === 503 ? 'Database unavailable: the token’s standing is unknown, retry.' : SHARED_ERRORS[status]);
  }
  return responses;
}

const INTROSPECTION_SCHEMA = {
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean' },
    token_use: { enum: ['access_token', 'refresh_token'] },
    token_type: { enum: ['Bearer', 'DPoP'] },
    client_id: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    iss: { type: 'string' },
    sub: { type: 'string' },
    scope: { type: 'string' },
    cnf: { type: 'object', properties: { 'x5t#S256': { type: 'string' }, jkt: { type: 'string' } } },
    jti: { type: 'string' },
    grant_id: { type: 'string' },
    consent_id: { type: 'string' },
  },
};

function operation(profile: ProfileName): Json {
  const row = profileRow(profile);
  const responses = row.kind === 'revocation' ? revocationResponses(row) : introspectionResponses(row);
  const identityDomain = [
    ...(row.tenantSelectors.includes('identity-domain-header')
      ? [{ name: 'x-oauth-identity-domain-name', in: 'header', required: false, description: 'OAM identity domain = tenant.', schema: { type: 'string' } }]
      : []),
    ...(row.tenantSelectors.includes('identity-domain-query')
      ? [{ name: 'identityDomain', in: 'query', required: false, description: 'OAM identity domain, when the header is absent.', schema: { type: 'string' } }]
      : []),
  ];
  const accept = row.acceptsJsonOnly
    ? [{ name: 'Accept', in: 'header', required: false, description: 'Must admit application/json (406 otherwise).', schema: { type: 'string' } }]
    : [];
  return {
    operationId: row.kind === 'revocation' ? `revoke_${profile}` : profile,
    summary: row.summary,
    description: `Profile \`${profile}\`. Client authentication: ${row.methods.join(', ')}; client assertion algorithms: ${row.algorithms.join(', ')}.`,
    tags: [row.kind],
    parameters: [...REQUEST_HEADERS, ...accept, ...identityDomain],
    requestBody: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            required: row.parameters.filter((p) => p.required).map((p) => p.name),
            properties: Object.fromEntries(
              row.parameters.map((p) => [p.name, { type: 'string', description: p.description, ...(p.values ? { enum: p.values } : {}) }]),
            ),
          },
        },
      },
    },
    // Alternatives: HTTP Basic, mutual TLS, or credentials in the form (client_secret_post,
    // private_key_jwt, a public client's client_id), which OpenAPI has no scheme for.
    security: [
      ...(row.methods.includes('client_secret_basic') ? [{ client_secret_basic: [] }] : []),
      ...(row.methods.includes('tls_client_auth') ? [{ mutual_tls: [] }] : []),
      {},
    ],
    responses,
  };
}

/**
 * The public API as OpenAPI 3.1, generated from the profile contracts the controllers themselves
 * run on (docs/api.md §2) — served at /openapi.json and checked in at docs/openapi.json.
 */
export function openApiDocument(config: AppConfig): Json {
  const paths: Json = {};
  for (const profile of config.profiles) paths[PROFILE_ROWS[profile].route] = { post: operation(profile) };
  paths[METADATA_PATH] = {
    get: {
      operationId: 'metadata',
      summary: 'RFC 8414 authorization server metadata (revocation subset)',
      tags: ['discovery'],
      responses: { 200: { description: 'Metadata.', headers: RESPONSE_HEADERS, content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  paths[JWKS_PATH] = {
    get: {
      operationId: 'jwks',
      summary: 'The public keys the gateway signs with (RFC 7517 JWK Set), the current one first',
      tags: ['discovery'],
      responses: {
        200: {
          description: 'JWK Set: each key with kid, alg and use "sig", never a private member.',
          headers: {
            'x-fapi-interaction-id': RESPONSE_HEADERS['x-fapi-interaction-id'],
            'Cache-Control': header('Five minutes.', { type: 'string', const: 'public, max-age=300' }),
          },
          content: { 'application/jwk-set+json': { schema: { $ref: '#/components/schemas/jwk_set' } } },
        },
      },
    },
  };
  paths[OPENAPI_PATH] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      tags: ['discovery'],
      responses: { 200: { description: 'OpenAPI 3.1 document.', headers: RESPONSE_HEADERS, content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'fapi-revocation-gateway',
      version: '1',
      description:
        'Token revocation for open banking: RFC 7009, FAPI, OAM, /api/id/v1 and CDR wire contracts over one engine; RFC 7662 introspection for resource servers.',
    },
    servers: [{ url: config.issuer }],
    tags: [{ name: 'revocation' }, { name: 'introspection' }, { name: 'discovery' }],
    paths,
    components: {
      schemas: { ...Object.fromEntries(Object.values(ERROR_SHAPES).map((shape) => [`${shape.name}_error`, shape.schema])), jwk_set: JWK_SET_SCHEMA },
      securitySchemes: {
        client_secret_basic: { type: 'http', scheme: 'basic', description: 'RFC 6749 §2.3.1: form-encoded client_id and secret.' },
        mutual_tls: { type: 'mutualTLS', description: 'RFC 8705 tls_client_auth / self_signed_tls_client_auth, with client_id in the form.' },
      },
    },
  };
}
