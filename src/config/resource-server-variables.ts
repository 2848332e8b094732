import { IsUrl } from 'class-validator';
import { custom, integer, pattern, url, type Variable } from './variable-kinds';

/**
 * The variables of the resource-server side (docs/api.md §11): the enforcement check, the token
 * status in memory, JWT access tokens, the upstream introspection overlay and the revocation
 * events (docs/api.md §12). Part of the one
 * table in variables.ts, which spreads them in.
 */
export const RESOURCE_SERVER_VARIABLES = {
  AUTHZ_CHECK_TOKEN: {
    feature: 'enforcement',
    description:
      'Set: a request to `/authz/check` must carry it in `x-authz-check-token`, else 403. Unset: the check takes any caller that reaches the management port.',
    sensitive: true,
    ...pattern(/^[\x21-\x7e]{16,}$/, 'must be at least 16 printable ASCII characters without spaces'),
  },
  TOKEN_STATUS_CACHE_ENTRIES: {
    feature: 'enforcement',
    description:
      'Registered tokens kept in memory for introspection and the check (docs/api.md §11.6), the oldest going first; a revocation on any replica removes its entries as it commits. `0` turns the cache off.',
    default: '100000',
    ...integer(0, 10_000_000),
  },
  TOKEN_STATUS_CACHE_TTL_MS: {
    feature: 'enforcement',
    description: 'The longest an entry of the token status cache is kept (never past the token’s expiry).',
    default: '60000',
    ...integer(1000, 3_600_000),
  },
  ACCESS_TOKEN_JWKS_URI: {
    feature: 'enforcement',
    description:
      "The `default` tenant's access-token keys: JWT access tokens (RFC 9068) signed by one of them are known without registration (docs/api.md §11.3). Fetched with the limits and caching of a client's `jwks_uri`. Other tenants name theirs with `access_token_jwks_uri` (docs/api.md §9).",
    ...url(['https:', 'http:'], { plain: true }),
  },
  ACCESS_TOKEN_ISSUER: {
    feature: 'enforcement',
    description: "The `iss` of the `default` tenant's JWT access tokens, compared exactly (a trailing `/` counts). Other tenants: their `issuer`.",
    defaultText: '`ISSUER`',
    ...custom<string>('`http://…` or `https://…` URL', [IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })]),
  },
  ACCESS_TOKEN_CONSENT_CLAIM: {
    feature: 'enforcement',
    description: "The claim of a JWT access token that names its consent: what a consent revocation's rule matches (docs/api.md §11.3).",
    default: 'consent_id',
    ...pattern(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable ASCII characters'),
  },
  ACCESS_TOKEN_MAX_LIFETIME_S: {
    feature: 'enforcement',
    description:
      'The longest a JWT access token lives (`exp` after `iat`): a longer-lived one is not known. A bulk or consent revocation keeps its rule this long, then drops it, when every token it matched has expired.',
    default: '3600',
    ...integer(1, 86400),
  },
  UPSTREAM_INTROSPECTION_URL: {
    feature: 'introspection-overlay',
    description:
      "The authorization server's RFC 7662 introspection endpoint. Set: a token that is neither registered, nor a known JWT, nor revoked here is introspected there, and revoked only if it is the caller's.",
    ...url(['https:', 'http:'], { plain: true }),
  },
  INTROSPECTION_CACHE_MS: {
    feature: 'introspection-overlay',
    description:
      "How long a positive upstream answer is kept in memory (never past the token's `exp`; a revocation on any replica removes it); `0` keeps none.",
    default: '30000',
    ...integer(0, 300_000),
  },
  SSF_PUSH_TIMEOUT_MS: {
    feature: 'events',
    description:
      "How long a push delivery waits for the receiver's answer (docs/api.md §12.4); past it the SET is tried again later. A delivery is never in flight twice: its lease is this plus a margin.",
    default: '5000',
    ...integer(100, 60_000),
  },
  SSF_RETENTION_S: {
    feature: 'events',
    description:
      'How long a security event token not yet delivered (push) or acknowledged (poll) is kept; older ones are dropped and counted as `expired` (docs/api.md §12.5).',
    default: '604800',
    ...integer(60, 31_536_000),
  },
} satisfies Record<string, Variable>;
