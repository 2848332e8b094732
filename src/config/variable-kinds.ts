import { IsBoolean, IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import { SIGNING_ALGORITHMS } from '../signing/signing-jwk';
import { IsAes256Key, IsReadableFile, IsSigningJwk, IsUrlWith, toBoolean, toInteger, type Raw } from './env-validation';

/*
 * How a variable of src/config/variables.ts is declared: the features variables belong to, and the
 * kinds of value they take (what each accepts in words, how it is converted, how it is checked).
 */

/** How a variable reads and what it must be. */
export interface Kind<T> {
  /** What it accepts, in words (docs/configuration.md). */
  readonly accepts: string;
  /** class-validator checks, the type check first: a bad value is reported by the first that fails. */
  readonly checks: readonly PropertyDecorator[];
  /** Converts the raw string before the checks. */
  readonly parse?: (raw: Raw) => unknown;
  /** Type only: the value once read. */
  readonly type?: T;
}

export interface Variable<T = unknown> extends Kind<T> {
  readonly feature: Feature;
  /** One or two sentences (docs/configuration.md). */
  readonly description: string;
  /** Spelled as in the environment. Absent: unset, unless `defaultText` says what applies instead. */
  readonly default?: string;
  readonly defaultText?: string;
  /** Never echoed in an error line, never logged. */
  readonly sensitive?: true;
}

export interface FeatureInfo {
  readonly title: string;
  readonly about: string;
  /** Set: the feature's variables are read and checked only when this variable is set. */
  readonly switchedOnBy?: string;
}

/** In the order docs/configuration.md lists them. */
export const FEATURES = {
  server: { title: 'Listeners and process', about: 'The two ports, the issuer identifier and the process lifecycle (docs/api.md §1).' },
  database: {
    title: 'Database',
    about: 'PostgreSQL: an external server with `DATABASE_URL`, else the embedded PGlite in `DATA_DIR`, whose migrations always run at start.',
  },
  redis: {
    title: 'Redis',
    about: 'Optional shared state for the replicas: one connection per process, for the replay store, the throttling counters and readiness.',
  },
  admin: { title: 'Admin API', about: 'The admin API on the management port (docs/api.md §9).' },
  revocation: { title: 'Revocation', about: 'What the public port serves (docs/api.md §2).' },
  tls: { title: 'TLS on the public port', about: 'The public port terminates TLS itself and asks for client certificates (RFC 8705).' },
  'client-auth': {
    title: 'Client authentication',
    about: 'Certificates forwarded by a proxy, the proxies believed, and the client registration cache (docs/api.md §5).',
  },
  throttling: { title: 'Throttling', about: 'Two budgets per window on the public port (docs/api.md §7).' },
  encryption: {
    title: 'Encryption at rest',
    about: "The key that seals the upstream outbox's tokens (docs/api.md §6) and the event receivers' credentials (docs/api.md §12.2).",
  },
  signing: {
    title: 'Signing key',
    about: 'The key the gateway signs its introspection answers and security event tokens with, published at `/jwks.json` (docs/api.md §13).',
  },
  upstream: {
    title: 'Upstream propagation',
    about: "Revocations sent on to the bank's authorization server (docs/api.md §6).",
    switchedOnBy: 'UPSTREAM_REVOCATION_URL',
  },
  enforcement: {
    title: 'Resource servers',
    about:
      'Introspection, the enforcement check that API gateways (NGINX `auth_request`, Envoy `ext_authz`, Traefik ForwardAuth) ask on the management port, and the token status they share in memory (docs/api.md §11).',
  },
  'introspection-overlay': {
    title: 'Upstream introspection overlay',
    about:
      "Tokens the gateway does not know, introspected at the bank's authorization server (docs/api.md §11.4), with the gateway's upstream credentials (`UPSTREAM_CLIENT_ID`, `UPSTREAM_CLIENT_SECRET`) and `UPSTREAM_TIMEOUT_MS`.",
    switchedOnBy: 'UPSTREAM_INTROSPECTION_URL',
  },
  events: {
    title: 'Revocation events',
    about: 'The Shared Signals transmitter (docs/api.md §12): how long a push waits for its receiver, and how long undelivered security event tokens are kept.',
  },
  logging: { title: 'Logging', about: 'JSON lines on stdout (docs/api.md §10); secrets never reach them.' },
} as const satisfies Record<string, FeatureInfo>;

export type Feature = keyof typeof FEATURES;

export const code = (value: string) => `\`${value}\``;

export const integer = (min: number, max: number): Kind<number> => ({
  accepts: `integer ${min}–${max}`,
  parse: toInteger,
  checks: [IsInt(), Min(min), Max(max)],
});
export const boolean = (): Kind<boolean> => ({
  accepts: '`true`, `false`, `1` or `0`',
  parse: toBoolean,
  checks: [IsBoolean({ message: 'must be true or false' })],
});
export const oneOf = <const T extends string>(values: readonly T[]): Kind<T> => ({ accepts: values.map(code).join(', '), checks: [IsIn(values)] });
export const url = (protocols: string[], { plain = false } = {}): Kind<string> => ({
  accepts: `${protocols.map((p) => code(`${p}//…`)).join(' or ')} URL${plain ? ', without credentials or fragment' : ''}`,
  checks: [IsUrlWith(protocols, { plain })],
});
export const pattern = (regex: RegExp, message: string): Kind<string> => ({ accepts: message.replace(/^must be /, ''), checks: [Matches(regex, { message })] });
export const custom = <T>(accepts: string, checks: PropertyDecorator[], parse?: (raw: Raw) => unknown): Kind<T> => ({ accepts, checks, parse });
export const readableFile = (): Kind<string> => ({ accepts: 'path of a readable file', checks: [IsReadableFile()] });
export const aes256Key = (): Kind<string> => ({ accepts: '32 bytes in base64 or base64url', checks: [IsAes256Key()] });
export const signingJwk = ({ publicEnough = false } = {}): Kind<string> => ({
  accepts: `${publicEnough ? 'private or public' : 'private'} JWK (JSON) for ${SIGNING_ALGORITHMS.map(code).join(', ')}; RSA of at least 2048 bits`,
  checks: [IsSigningJwk({ publicEnough })],
});
