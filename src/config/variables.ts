import { IsIn, IsString, IsUrl } from 'class-validator';
import { PROFILE_NAMES, type ProfileName } from '../protocol/profiles';
import { REVOCATION_LEVELS } from '../revocation/levels';
import { UPSTREAM_DIALECTS } from '../upstream/upstream-outcome';
import { IsBindAddress, IsCidrList, toList } from './env-validation';
import { RESOURCE_SERVER_VARIABLES } from './resource-server-variables';
import { aes256Key, boolean, code, custom, integer, oneOf, pattern, readableFile, signingJwk, url, type Variable } from './variable-kinds';

/**
 * Every environment variable the gateway reads, declared once: what it means, its default, whether
 * it is sensitive, the feature it belongs to and what it accepts. src/config/config.ts builds the
 * one validator from this table, and `npm run docs:config` writes docs/configuration.md from it.
 */

export const VARIABLES = {
  PORT: { feature: 'server', description: 'Public API, for TPPs.', default: '8080', ...integer(0, 65535) },
  MANAGEMENT_PORT: {
    feature: 'server',
    description: 'Management API: `/metrics`, `/health/*` and `/admin/*`. Never expose it to TPPs.',
    default: '9464',
    ...integer(0, 65535),
  },
  HOST: {
    feature: 'server',
    description: 'Address both listeners bind to: `0.0.0.0` or `::` for every interface (`::` for IPv6 too).',
    default: '0.0.0.0',
    ...custom<string>('IPv4 or IPv6 address, or `localhost`', [IsBindAddress()]),
  },
  DATABASE_URL: {
    feature: 'database',
    description: 'The PostgreSQL server. Unset: the embedded PGlite in `DATA_DIR`.',
    sensitive: true,
    ...url(['postgres:', 'postgresql:']),
  },
  REDIS_URL: {
    feature: 'redis',
    description:
      'Set: the client-assertion `jti` replay store and the throttling counters live in Redis, shared by the replicas, and readiness needs Redis. Unset: the replay store is in PostgreSQL and each process counts its own budgets.',
    sensitive: true,
    ...url(['redis:', 'rediss:']),
  },
  DATA_DIR: {
    feature: 'database',
    description: 'Where the embedded database keeps its data; `memory://` keeps it in memory. Ignored with `DATABASE_URL`.',
    default: './data',
    ...custom<string>('path', [IsString()]),
  },
  MIGRATIONS_RUN: {
    feature: 'database',
    description: 'Run pending migrations at start (always on for the embedded database); else `npm run migration:run`.',
    default: 'false',
    ...boolean(),
  },
  DATABASE_POOL_SIZE: { feature: 'database', description: 'Connections per process (the embedded database always uses 1).', default: '10', ...integer(1, 200) },
  DATABASE_CONNECT_TIMEOUT_MS: {
    feature: 'database',
    description: 'Longest wait for a pooled connection, so that a lost database answers 503 instead of hanging.',
    default: '2000',
    ...integer(100, 60000),
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    feature: 'database',
    description: 'Server-side `statement_timeout`; the client-side bound is 1 s more.',
    default: '5000',
    ...integer(100, 600000),
  },
  DATABASE_LOCK_TIMEOUT_MS: {
    feature: 'database',
    description:
      "Server-side `lock_timeout`: the longest wait for rows another transaction holds (an admin bulk revocation, a cascade over the same grant). Below the statement timeout, so that such a wait shows as that request's conflict (503 + `Retry-After`) rather than as a slow database; it should stay above the server's `deadlock_timeout` (1 s by default), so that a deadlock is reported, and retried, as one. Migrations run with it too, so a migration does not queue behind live traffic: it fails and is run again.",
    defaultText: '`2000`, or half of `DATABASE_STATEMENT_TIMEOUT_MS` if less',
    ...integer(10, 600000),
  },
  ISSUER: {
    feature: 'server',
    description:
      "The gateway's issuer identifier: client assertions are addressed to it (or to it plus the route), and the metadata names it. A trailing `/` is dropped.",
    default: 'http://localhost:8080',
    ...custom<string>('`http://…` or `https://…` URL', [IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })]),
  },
  ADMIN_API_TOKEN: {
    feature: 'admin',
    description: 'Bearer token of the admin API. Unset: the admin routes answer 404.',
    sensitive: true,
    // A bearer token: no whitespace, or no Authorization header could ever carry it.
    ...pattern(/^\S{16,}$/, 'must be at least 16 characters without whitespace'),
  },
  PROFILES: {
    feature: 'revocation',
    description: 'The profiles served; a profile left out answers 404 on its route.',
    default: PROFILE_NAMES.join(','),
    ...custom<ProfileName[]>(
      `comma-separated list out of ${PROFILE_NAMES.map(code).join(', ')}`,
      [IsIn(PROFILE_NAMES, { each: true, message: `must list profiles out of ${PROFILE_NAMES.join(',')}` })],
      toList,
    ),
  },
  REVOCATION_DEFAULT_LEVEL: {
    feature: 'revocation',
    description: 'The revocation level for every token type (docs/api.md §2). Unset: each token type keeps its own default.',
    ...oneOf(REVOCATION_LEVELS),
  },
  TLS_CERT_FILE: {
    feature: 'tls',
    description: 'Certificate chain (PEM) of the public port. Set together with `TLS_KEY_FILE`: the public port serves HTTPS and asks for client certificates.',
    ...readableFile(),
  },
  TLS_KEY_FILE: { feature: 'tls', description: 'Private key (PEM) of `TLS_CERT_FILE`.', ...readableFile() },
  TLS_CA_FILE: {
    feature: 'tls',
    description: "Trust anchors (PEM) for `tls_client_auth` certificates presented to the gateway's own TLS listener. Unset: no client certificate verifies.",
    ...readableFile(),
  },
  MTLS_CLIENT_CERT_HEADER: {
    feature: 'client-auth',
    description:
      'Header in which a TLS-terminating proxy forwards the client certificate (URL-encoded PEM), e.g. `ssl-client-cert`. Believed only from `TRUSTED_PROXIES`.',
    ...pattern(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'),
  },
  TRUSTED_PROXIES: {
    feature: 'client-auth',
    description: 'Peers whose certificate header and `X-Forwarded-For` are believed (the ingress controller, a service mesh).',
    defaultText: 'empty',
    ...custom<string[]>('comma-separated IP addresses or CIDR ranges', [IsCidrList()], toList),
  },
  THROTTLE_IP_LIMIT: {
    feature: 'throttling',
    description: 'Requests per `THROTTLE_TTL_MS` from one source address, counted before anything else is done; `0` turns it off.',
    default: '1200',
    ...integer(0, 10_000_000),
  },
  THROTTLE_CLIENT_LIMIT: {
    feature: 'throttling',
    description: 'Requests per `THROTTLE_TTL_MS` from one authenticated client (a public client: per client and source); `0` turns it off.',
    default: '600',
    ...integer(0, 10_000_000),
  },
  THROTTLE_RESOURCE_SERVER_LIMIT: {
    feature: 'throttling',
    description: 'Requests per `THROTTLE_TTL_MS` from one resource server (docs/api.md §11.1), which introspects for every user of its API; `0` turns it off.',
    default: '100000',
    ...integer(0, 100_000_000),
  },
  THROTTLE_TTL_MS: { feature: 'throttling', description: 'The throttling window.', default: '60000', ...integer(1000, 3_600_000) },
  THROTTLE_IPV6_PREFIX: {
    feature: 'throttling',
    description: 'IPv6 sources share one budget per network of this many bits (a subscriber gets a /64; `128`: per address).',
    default: '64',
    ...integer(8, 128),
  },
  SHUTDOWN_GRACE_MS: {
    feature: 'server',
    description: 'On SIGTERM, how long in-flight requests may take; the process exits 1 if they take longer.',
    default: '10000',
    ...integer(100, 600000),
  },
  REQUEST_TIMEOUT_MS: {
    feature: 'server',
    description: 'How long a client may take to send a whole request, headers and body; then 408.',
    default: '30000',
    ...integer(500, 300000),
  },
  CLIENT_CACHE_TTL_MS: {
    feature: 'client-auth',
    description:
      'How long a process may use a client registration it read. An admin change applies at once on the process that made it, on the others within this time; `0` reads it on every request.',
    default: '1000',
    ...integer(0, 60000),
  },
  ...RESOURCE_SERVER_VARIABLES,
  SIGNING_KEY: {
    feature: 'signing',
    description:
      'The private JWK the gateway signs with; its `alg` says which algorithm (an RSA key without one signs PS256), its `kid` names it (else its RFC 7638 thumbprint). Unset: an ES256 key made at the first start and kept in the database, shared by every replica.',
    sensitive: true,
    ...signingJwk(),
  },
  SIGNING_KEY_PREVIOUS: {
    feature: 'signing',
    description:
      'The key before a rotation, as it was or its public members only: published at `/jwks.json` after the current one, never used to sign. Drop it once nothing it signed is still in use.',
    sensitive: true,
    ...signingJwk({ publicEnough: true }),
  },
  LOG_LEVEL: { feature: 'logging', description: 'The pino level.', default: 'info', ...oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) },
  LOG_FORMAT: {
    feature: 'logging',
    description: 'JSON lines, unless a human reads them: `pretty` (pino-pretty), for a terminal.',
    default: 'json',
    ...oneOf(['json', 'pretty']),
  },

  UPSTREAM_REVOCATION_URL: {
    feature: 'upstream',
    description: 'Set: every revocation is also sent to this revocation endpoint once it has committed locally.',
    // Sensitive too: it is refused when it carries credentials, and must not print them then.
    sensitive: true,
    ...url(['http:', 'https:'], { plain: true }),
  },
  UPSTREAM_DIALECT: {
    feature: 'upstream',
    description: 'How the upstream is spoken to and how its answer is read.',
    default: 'rfc7009',
    ...oneOf(UPSTREAM_DIALECTS),
  },
  UPSTREAM_CLIENT_ID: {
    feature: 'upstream',
    description:
      "Required with an upstream: the gateway's own client there. With `UPSTREAM_CLIENT_SECRET`: HTTP Basic; alone: a public client (`client_id` in the form, RFC 6749 §2.3.1 / RFC 7009 §2.1).",
    // RFC 6749 §2.3.1 allows any characters, but a colon cannot survive HTTP Basic.
    ...pattern(/^[\x20-\x39\x3b-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without a colon'),
  },
  UPSTREAM_CLIENT_SECRET: {
    feature: 'upstream',
    description: 'The secret of `UPSTREAM_CLIENT_ID` at the upstream.',
    sensitive: true,
    ...pattern(/^[\x20-\x7e]{1,1024}$/, 'must be 1-1024 printable ASCII characters'),
  },
  UPSTREAM_TIMEOUT_MS: { feature: 'upstream', description: 'One delivery, connect to last byte; then 504.', default: '2000', ...integer(50, 60000) },
  UPSTREAM_BREAKER_FAILURES: { feature: 'upstream', description: 'Consecutive failures that open the circuit.', default: '5', ...integer(1, 1000) },
  UPSTREAM_BREAKER_RESET_MS: {
    feature: 'upstream',
    description: 'How long the circuit stays open before a probe.',
    default: '10000',
    ...integer(100, 3_600_000),
  },
  TOKEN_ENCRYPTION_KEY: {
    feature: 'encryption',
    description:
      "The AES-256-GCM key sealing what the gateway must keep but never show: the tokens in the upstream outbox (required with an upstream) and the receivers' `authorization_header` of event streams (docs/api.md §12.2). `openssl rand -base64 32`.",
    sensitive: true,
    ...aes256Key(),
  },
  TOKEN_ENCRYPTION_KEY_PREVIOUS: {
    feature: 'encryption',
    description:
      'The key before a rotation: still opens what was sealed under it, never seals. Drop it once `revgw_outbox_pending` is 0 and every stream credential has been set again.',
    sensitive: true,
    ...aes256Key(),
  },
  UPSTREAM_OUTBOX_MAX_ATTEMPTS: {
    feature: 'upstream',
    description: 'Deliveries tried before an outbox row is dead-lettered (with the 5-minute cap on the backoff, 300 keep trying for about a day).',
    default: '300',
    ...integer(1, 100_000),
  },
} satisfies Record<string, Variable>;

export type Name = keyof typeof VARIABLES;
export const NAMES = Object.keys(VARIABLES) as Name[];

type ValueOf<V> = V extends { type?: infer T } ? Exclude<T, undefined> : never;
/** The variables once read and checked: those without a default may be unset. */
export type Settings = {
  readonly [K in Name]: (typeof VARIABLES)[K] extends { default: string } ? ValueOf<(typeof VARIABLES)[K]> : ValueOf<(typeof VARIABLES)[K]> | undefined;
};
