import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsOptional, ValidateIf, validateSync } from 'class-validator';
import type { RevocationLevel } from '../revocation/levels';
import type { ProfileName } from '../protocol/profiles';
import { readSigningJwk, readVerificationJwk, type SigningKeyMaterial, type VerificationKey } from '../signing/signing-jwk';
import type { UpstreamDialect } from '../upstream/upstream-outcome';
import { problemLines } from './env-validation';
import { lockTimeoutMs, RULES } from './config-rules';
import { FEATURES, type Feature, type FeatureInfo, type Variable } from './variable-kinds';
import { NAMES, VARIABLES, type Name, type Settings } from './variables';

/** docs/api.md §6, once UPSTREAM_REVOCATION_URL is set. */
export interface UpstreamConfig {
  readonly url: string;
  readonly dialect: UpstreamDialect;
  /** Both set: HTTP Basic. Only the id: a public client (`client_id` in the form, RFC 6749 §2.3.1 / RFC 7009 §2.1). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly timeoutMs: number;
  readonly breaker: { readonly failures: number; readonly resetMs: number };
  /** AES-256-GCM key for the outbox (32 bytes). */
  readonly encryptionKey: Buffer;
  /** The key before a rotation: still opens rows sealed under it, never seals. */
  readonly previousEncryptionKey?: Buffer;
  /** Deliveries tried before an outbox row is dead-lettered. */
  readonly maxAttempts: number;
}

/** docs/api.md §11.4, once UPSTREAM_INTROSPECTION_URL is set. */
export interface IntrospectionOverlayConfig {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly breaker: { readonly failures: number; readonly resetMs: number };
}

/** The gateway's configuration as its parts use it, read from the variables of src/config/variables.ts. */
export interface AppConfig {
  readonly port: number;
  readonly managementPort: number;
  readonly host: string;
  /** `undefined` selects the embedded database. */
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly dataDir: string;
  readonly migrationsRun: boolean;
  readonly database: { readonly poolSize: number; readonly connectTimeoutMs: number; readonly statementTimeoutMs: number; readonly lockTimeoutMs: number };
  /** Without a trailing slash. */
  readonly issuer: string;
  readonly adminApiToken?: string;
  /** docs/api.md §11.5: the shared secret of the enforcement check's callers, when there is one. */
  readonly authzCheckToken?: string;
  /** docs/api.md §11.6: the in-memory token status of introspection and the check. */
  readonly tokenStatusCache: { readonly maxEntries: number; readonly ttlMs: number };
  /** docs/api.md §11.3: JWT access tokens of the `default` tenant, and the rules of every tenant. */
  readonly accessTokens: {
    readonly jwksUri?: string;
    /** Set: the `default` tenant's expected `iss`; unset, its issuer, else ISSUER. */
    readonly issuer?: string;
    readonly consentClaim: string;
    readonly maxLifetimeS: number;
  };
  readonly profiles: ReadonlySet<ProfileName>;
  readonly defaultLevel?: RevocationLevel;
  readonly shutdownGraceMs: number;
  readonly requestTimeoutMs: number;
  readonly clientCacheTtlMs: number;
  /** Paths; set when the public port terminates TLS. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  /** Lower-cased header name, when a proxy forwards client certificates. */
  readonly mtlsClientCertHeader?: string;
  readonly trustedProxies: readonly string[];
  readonly throttle: {
    readonly ipLimit: number;
    readonly clientLimit: number;
    readonly resourceServerLimit: number;
    readonly ttlMs: number;
    readonly ipv6Prefix: number;
  };
  /** docs/api.md §12: the push deliveries' timeout, and how long an undelivered SET is kept. */
  readonly events: { readonly pushTimeoutMs: number; readonly retentionS: number };
  /** Set when unknown tokens are introspected at the upstream authorization server (docs/api.md §11.4). */
  readonly introspectionOverlay?: IntrospectionOverlayConfig;
  /** Set when revocations are propagated to an upstream authorization server (docs/api.md §6). */
  readonly upstream?: UpstreamConfig;
  /** TOKEN_ENCRYPTION_KEY (and the one before a rotation), when set: the outbox's and the stream credentials' key. */
  readonly encryption?: { readonly key: Buffer; readonly previous?: Buffer };
  /** Set with SIGNING_KEY (docs/api.md §13); unset, the key is the one kept in the database. */
  readonly signing?: { readonly key: SigningKeyMaterial; readonly previous?: VerificationKey };
  readonly logLevel: string;
  readonly logFormat: 'json' | 'pretty';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const TABLE: Readonly<Record<Name, Variable>> = VARIABLES;
const switchOf = (feature: Feature): string | undefined => (FEATURES[feature] as FeatureInfo).switchedOnBy;
const SENSITIVE: ReadonlySet<string> = new Set(NAMES.filter((name) => TABLE[name].sensitive));
const DEFAULTS = Object.fromEntries(NAMES.flatMap((name) => (TABLE[name].default === undefined ? [] : [[name, TABLE[name].default]])));

/**
 * The one validator: a property per declared variable, carrying its conversion and its checks. A
 * variable of a switched feature (upstream) is checked only when the feature is on (docs/api.md
 * §1): a stray UPSTREAM_TIMEOUT_MS does not stop a local-only gateway.
 */
class EnvironmentVariables {}
for (const name of NAMES) {
  const variable = TABLE[name];
  const switchedOnBy = switchOf(variable.feature);
  const decorators = [
    IsOptional(),
    ...(switchedOnBy ? [ValidateIf((env: Record<string, unknown>) => env[switchedOnBy] !== undefined)] : []),
    ...(variable.parse ? [Transform(variable.parse)] : []),
    ...variable.checks,
  ];
  // Applied last-written first, as decorators written above a property would be.
  for (const decorate of decorators.reverse()) decorate(EnvironmentVariables.prototype, name);
}

/**
 * Reads and validates the environment; throws ConfigError naming every bad variable, one line each
 * (docs/api.md §1). Empty means unset. The features that are always on come first: their
 * variables, then their rules; then each switched feature that is on, likewise.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = { ...DEFAULTS };
  for (const name of NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw) as unknown as Settings;
  const errors = validateSync(vars, { whitelist: true, forbidUnknownValues: true });
  const problems: string[] = [];
  const reported = new Set<string>();
  const stages = [undefined, ...Object.keys(FEATURES).filter((feature) => raw[switchOf(feature as Feature) ?? ''] !== undefined)];
  for (const stage of stages) {
    const inStage = (feature: Feature) => (switchOf(feature) ? feature : undefined) === stage;
    const bad = errors.filter((error) => inStage(TABLE[error.property as Name].feature));
    problems.push(...problemLines(bad, raw, SENSITIVE));
    for (const error of bad) reported.add(error.property);
    for (const rule of RULES.filter((r) => inStage(r.feature))) {
      if (rule.checkedWhen === 'valid' ? problems.length > 0 : rule.names.some((name) => reported.has(name))) continue;
      const problem = rule.problem(vars);
      if (problem) {
        problems.push(`Invalid configuration: ${problem}`);
        for (const name of rule.names) reported.add(name);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: vars.PORT,
    managementPort: vars.MANAGEMENT_PORT,
    host: vars.HOST,
    databaseUrl: vars.DATABASE_URL,
    redisUrl: vars.REDIS_URL,
    dataDir: vars.DATA_DIR,
    migrationsRun: vars.MIGRATIONS_RUN,
    database: {
      poolSize: vars.DATABASE_POOL_SIZE,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: lockTimeoutMs(vars),
    },
    issuer: vars.ISSUER.replace(/\/+$/, ''),
    adminApiToken: vars.ADMIN_API_TOKEN,
    authzCheckToken: vars.AUTHZ_CHECK_TOKEN,
    tokenStatusCache: { maxEntries: vars.TOKEN_STATUS_CACHE_ENTRIES, ttlMs: vars.TOKEN_STATUS_CACHE_TTL_MS },
    accessTokens: {
      jwksUri: vars.ACCESS_TOKEN_JWKS_URI,
      issuer: vars.ACCESS_TOKEN_ISSUER,
      consentClaim: vars.ACCESS_TOKEN_CONSENT_CLAIM,
      maxLifetimeS: vars.ACCESS_TOKEN_MAX_LIFETIME_S,
    },
    profiles: new Set(vars.PROFILES),
    defaultLevel: vars.REVOCATION_DEFAULT_LEVEL,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    requestTimeoutMs: vars.REQUEST_TIMEOUT_MS,
    clientCacheTtlMs: vars.CLIENT_CACHE_TTL_MS,
    tls: vars.TLS_CERT_FILE && vars.TLS_KEY_FILE ? { certFile: vars.TLS_CERT_FILE, keyFile: vars.TLS_KEY_FILE, caFile: vars.TLS_CA_FILE } : undefined,
    mtlsClientCertHeader: vars.MTLS_CLIENT_CERT_HEADER?.toLowerCase(),
    trustedProxies: vars.TRUSTED_PROXIES ?? [],
    throttle: {
      ipLimit: vars.THROTTLE_IP_LIMIT,
      clientLimit: vars.THROTTLE_CLIENT_LIMIT,
      resourceServerLimit: vars.THROTTLE_RESOURCE_SERVER_LIMIT,
      ttlMs: vars.THROTTLE_TTL_MS,
      ipv6Prefix: vars.THROTTLE_IPV6_PREFIX,
    },
    events: { pushTimeoutMs: vars.SSF_PUSH_TIMEOUT_MS, retentionS: vars.SSF_RETENTION_S },
    introspectionOverlay: vars.UPSTREAM_INTROSPECTION_URL
      ? {
          url: vars.UPSTREAM_INTROSPECTION_URL,
          clientId: vars.UPSTREAM_CLIENT_ID!,
          clientSecret: vars.UPSTREAM_CLIENT_SECRET!,
          timeoutMs: vars.UPSTREAM_TIMEOUT_MS,
          cacheMs: vars.INTROSPECTION_CACHE_MS,
          breaker: { failures: vars.UPSTREAM_BREAKER_FAILURES, resetMs: vars.UPSTREAM_BREAKER_RESET_MS },
        }
      : undefined,
    upstream: vars.UPSTREAM_REVOCATION_URL
      ? {
          url: vars.UPSTREAM_REVOCATION_URL,
          dialect: vars.UPSTREAM_DIALECT,
          clientId: vars.UPSTREAM_CLIENT_ID,
          clientSecret: vars.UPSTREAM_CLIENT_SECRET,
          timeoutMs: vars.UPSTREAM_TIMEOUT_MS,
          breaker: { failures: vars.UPSTREAM_BREAKER_FAILURES, resetMs: vars.UPSTREAM_BREAKER_RESET_MS },
          encryptionKey: Buffer.from(vars.TOKEN_ENCRYPTION_KEY!, 'base64'),
          previousEncryptionKey: vars.TOKEN_ENCRYPTION_KEY_PREVIOUS ? Buffer.from(vars.TOKEN_ENCRYPTION_KEY_PREVIOUS, 'base64') : undefined,
          maxAttempts: vars.UPSTREAM_OUTBOX_MAX_ATTEMPTS,
        }
      : undefined,
    encryption: vars.TOKEN_ENCRYPTION_KEY
      ? {
          key: Buffer.from(vars.TOKEN_ENCRYPTION_KEY, 'base64'),
          previous: vars.TOKEN_ENCRYPTION_KEY_PREVIOUS ? Buffer.from(vars.TOKEN_ENCRYPTION_KEY_PREVIOUS, 'base64') : undefined,
        }
      : undefined,
    signing: vars.SIGNING_KEY
      ? { key: readSigningJwk(vars.SIGNING_KEY), previous: vars.SIGNING_KEY_PREVIOUS ? readVerificationJwk(vars.SIGNING_KEY_PREVIOUS) : undefined }
      : undefined,
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
  };
}
