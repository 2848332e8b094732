import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateBy,
  validateSync,
} from 'class-validator';
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { TrustedProxies } from '../client-auth/mtls';
import { REVOCATION_LEVELS, type RevocationLevel } from '../revocation/levels';
import { PROFILE_NAMES, type ProfileName } from '../protocol/profiles';
import { loadUpstreamConfig, type UpstreamConfig } from '../upstream/upstream-config';
import { IsUrlWith, problemLines, toInteger, type Raw } from './env-validation';

/** Variables without a default (absent from `new EnvironmentVariables()`'s keys). */
const OPTIONAL = ['DATABASE_URL', 'REDIS_URL', 'ADMIN_API_TOKEN', 'REVOCATION_DEFAULT_LEVEL', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE', 'MTLS_CLIENT_CERT_HEADER'];

/** Variables whose value must never be echoed in an error line or a log. */
const SENSITIVE = new Set(['DATABASE_URL', 'ADMIN_API_TOKEN', 'REDIS_URL']);

const toBoolean = ({ obj, key }: Raw) => ({ true: true, '1': true, false: false, '0': false })[String(obj[key])] ?? obj[key];
const IsBindAddress = () =>
  ValidateBy({
    name: 'isBindAddress',
    validator: {
      validate: (value) => typeof value === 'string' && (isIP(value) !== 0 || value === 'localhost'),
      defaultMessage: () => 'must be an IPv4 or IPv6 address (0.0.0.0 or :: for every interface) or localhost',
    },
  });
const IsReadableFile = () =>
  ValidateBy({
    name: 'isReadableFile',
    validator: {
      validate: (value) => {
        try {
          accessSync(String(value), constants.R_OK);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => 'must name a readable file',
    },
  });
const IsCidrList = () =>
  ValidateBy({
    name: 'isCidrList',
    validator: {
      validate: (value) => Array.isArray(value) && value.every((entry) => TrustedProxies.isValidEntry(String(entry))),
      defaultMessage: () => 'must be a comma-separated list of IP addresses or CIDR ranges',
    },
  });
const toList = ({ obj, key }: Raw) =>
  typeof obj[key] === 'string' ? obj[key].split(',').map((item) => item.trim()).filter(Boolean) : obj[key];

/**
 * The process environment as the gateway reads it: every variable it understands, validated once
 * at start. docs/api.md §1: bad configuration fails with one line per variable.
 */
class EnvironmentVariables {
  @IsOptional() @Transform(toInteger) @IsInt() @Min(0) @Max(65535)
  PORT: number = 8080;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(0) @Max(65535)
  MANAGEMENT_PORT: number = 9464;

  /** Address both listeners bind to. */
  @IsOptional() @IsBindAddress()
  HOST: string = '0.0.0.0';

  /** Unset: embedded PostgreSQL (PGlite) under DATA_DIR. */
  @IsOptional() @IsUrlWith(['postgres:', 'postgresql:'])
  DATABASE_URL?: string;

  /** Set: client assertion jti replay store (and later throttling counters) in Redis, shared by replicas. */
  @IsOptional() @IsUrlWith(['redis:', 'rediss:'])
  REDIS_URL?: string;

  @IsOptional() @IsString()
  DATA_DIR: string = './data';

  @IsOptional() @Transform(toBoolean) @IsBoolean({ message: 'must be true or false' })
  MIGRATIONS_RUN: boolean = false;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE: number = 10;

  /** Bounds the wait for a pooled connection, so a lost database answers 503 instead of hanging. */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(100) @Max(60000)
  DATABASE_CONNECT_TIMEOUT_MS: number = 2000;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(100) @Max(600000)
  DATABASE_STATEMENT_TIMEOUT_MS: number = 5000;

  /**
   * How long a statement waits for a row another transaction holds (an admin bulk revocation, a
   * cascade over the same grant). Below the statement timeout, so that a wait for one request's
   * rows shows as that request's conflict (retried alone) rather than as a slow database; above
   * PostgreSQL's deadlock_timeout (1 s by default), so that a deadlock is reported as one (and
   * retried) before the wait is given up. Unset: 2000 ms, or half the statement timeout if less.
   */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(10) @Max(600000)
  DATABASE_LOCK_TIMEOUT_MS?: number;

  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  ISSUER: string = 'http://localhost:8080';

  /** Unset: the admin API answers 404. */
  /** A bearer token: no whitespace, or no Authorization header could ever carry it. */
  @IsOptional() @Matches(/^\S{16,}$/, { message: 'must be at least 16 characters without whitespace' })
  ADMIN_API_TOKEN?: string;

  @IsOptional() @Transform(toList) @IsIn(PROFILE_NAMES, { each: true, message: `must list profiles out of ${PROFILE_NAMES.join(',')}` })
  PROFILES: ProfileName[] = [...PROFILE_NAMES];

  @IsOptional() @IsIn(REVOCATION_LEVELS)
  REVOCATION_DEFAULT_LEVEL?: RevocationLevel;

  /** Set both: the public port terminates TLS itself and asks for client certificates (RFC 8705). */
  @IsOptional() @IsReadableFile()
  TLS_CERT_FILE?: string;

  @IsOptional() @IsReadableFile()
  TLS_KEY_FILE?: string;

  /** Trust anchors for tls_client_auth certificates presented to our own TLS listener. */
  @IsOptional() @IsReadableFile()
  TLS_CA_FILE?: string;

  /** Header carrying the client certificate (URL-encoded PEM) from a TLS-terminating proxy. */
  @IsOptional() @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'must be an HTTP header name' })
  MTLS_CLIENT_CERT_HEADER?: string;

  /** Peers (addresses, CIDR ranges) whose certificate header and X-Forwarded-For are believed. */
  @IsOptional() @Transform(toList) @IsCidrList()
  TRUSTED_PROXIES: string[] = [];

  /** Requests per THROTTLE_TTL_MS from one source address, before anything else is done; 0 = off. */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(0) @Max(10_000_000)
  THROTTLE_IP_LIMIT: number = 1200;

  /** Requests per THROTTLE_TTL_MS from one authenticated client; 0 = off. */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(0) @Max(10_000_000)
  THROTTLE_CLIENT_LIMIT: number = 600;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(1000) @Max(3_600_000)
  THROTTLE_TTL_MS: number = 60000;

  /** IPv6 sources share a budget per network of this many bits (a subscriber gets a /64). */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(8) @Max(128)
  THROTTLE_IPV6_PREFIX: number = 64;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(100) @Max(600000)
  SHUTDOWN_GRACE_MS: number = 10000;

  /** How long a client may take to send a whole request (headers and body) before a 408. */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(500) @Max(300000)
  REQUEST_TIMEOUT_MS: number = 30000;

  /** How long a replica may use a client registration it read (0: read on every request). */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(0) @Max(60000)
  CLIENT_CACHE_TTL_MS: number = 1000;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** docs/api.md §1: JSON lines, unless a human reads them (`pretty`, for a terminal). */
  @IsOptional() @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = 'json';
}

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
  readonly throttle: { readonly ipLimit: number; readonly clientLimit: number; readonly ttlMs: number; readonly ipv6Prefix: number };
  /** Set when revocations are propagated to an upstream authorization server (docs/api.md §6). */
  readonly upstream?: UpstreamConfig;
  readonly logLevel: string;
  readonly logFormat: 'json' | 'pretty';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new EnvironmentVariables());
  const raw: Record<string, string> = {};
  for (const key of [...known, ...OPTIONAL]) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(vars, { whitelist: true, forbidUnknownValues: true });
  const problems = problemLines(errors, raw, SENSITIVE);
  if (problems.length === 0 && vars.PORT === vars.MANAGEMENT_PORT && vars.PORT !== 0) {
    problems.push(`Invalid configuration: MANAGEMENT_PORT must differ from PORT (both ${vars.PORT})`);
  }
  if (problems.length === 0 && !vars.TLS_CERT_FILE !== !vars.TLS_KEY_FILE) {
    problems.push(`Invalid configuration: ${vars.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'} must be set together with the other`);
  }
  const lockTimeoutMs = vars.DATABASE_LOCK_TIMEOUT_MS ?? Math.min(2000, Math.floor(vars.DATABASE_STATEMENT_TIMEOUT_MS / 2));
  if (problems.length === 0 && lockTimeoutMs >= vars.DATABASE_STATEMENT_TIMEOUT_MS) {
    problems.push(`Invalid configuration: DATABASE_LOCK_TIMEOUT_MS must be below DATABASE_STATEMENT_TIMEOUT_MS (${vars.DATABASE_STATEMENT_TIMEOUT_MS})`);
  }
  const { upstream, problems: upstreamProblems } = loadUpstreamConfig(env);
  problems.push(...upstreamProblems);
  // docs/api.md §1: in-flight requests finish on SIGTERM, and with an upstream one may wait its timeout.
  if (upstream && problems.length === 0 && vars.SHUTDOWN_GRACE_MS <= upstream.timeoutMs) {
    problems.push(`Invalid configuration: SHUTDOWN_GRACE_MS must exceed UPSTREAM_TIMEOUT_MS (${upstream.timeoutMs}), or in-flight revocations are cut at shutdown`);
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
      lockTimeoutMs,
    },
    issuer: vars.ISSUER.replace(/\/+$/, ''),
    adminApiToken: vars.ADMIN_API_TOKEN,
    profiles: new Set(vars.PROFILES),
    defaultLevel: vars.REVOCATION_DEFAULT_LEVEL,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    requestTimeoutMs: vars.REQUEST_TIMEOUT_MS,
    clientCacheTtlMs: vars.CLIENT_CACHE_TTL_MS,
    tls: vars.TLS_CERT_FILE && vars.TLS_KEY_FILE ? { certFile: vars.TLS_CERT_FILE, keyFile: vars.TLS_KEY_FILE, caFile: vars.TLS_CA_FILE } : undefined,
    mtlsClientCertHeader: vars.MTLS_CLIENT_CERT_HEADER?.toLowerCase(),
    trustedProxies: vars.TRUSTED_PROXIES,
    throttle: { ipLimit: vars.THROTTLE_IP_LIMIT, clientLimit: vars.THROTTLE_CLIENT_LIMIT, ttlMs: vars.THROTTLE_TTL_MS, ipv6Prefix: vars.THROTTLE_IPV6_PREFIX },
    upstream,
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
  };
}
