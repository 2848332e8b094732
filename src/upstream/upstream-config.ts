import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min, ValidateBy, validateSync } from 'class-validator';
import { IsUrlWith, problemLines, toInteger } from '../config/env-validation';

export const UPSTREAM_DIALECTS = ['rfc7009', 'oam'] as const;
export type UpstreamDialect = (typeof UPSTREAM_DIALECTS)[number];

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


/** 32 bytes, standard or URL-safe base64 (docs/api.md §6); `openssl rand -base64 32` makes one. */
const IsAes256Key = () =>
  ValidateBy({
    name: 'isAes256Key',
    validator: {
      validate: (value) => typeof value === 'string' && /^[A-Za-z0-9+/_-]{43}=?$/.test(value) && Buffer.from(value, 'base64').length === 32,
      defaultMessage: () => 'must be 32 random bytes in base64 (openssl rand -base64 32)',
    },
  });

class UpstreamVariables {
  @IsOptional() @IsUrlWith(['http:', 'https:'], { plain: true })
  UPSTREAM_REVOCATION_URL?: string;

  @IsOptional() @IsIn(UPSTREAM_DIALECTS)
  UPSTREAM_DIALECT: UpstreamDialect = 'rfc7009';

  /** RFC 6749 §2.3.1 allows any characters, but a colon cannot survive HTTP Basic. */
  @IsOptional() @Matches(/^[\x20-\x39\x3b-\x7e]{1,255}$/, { message: 'must be 1-255 printable ASCII characters without a colon' })
  UPSTREAM_CLIENT_ID?: string;

  @IsOptional() @Matches(/^[\x20-\x7e]{1,1024}$/, { message: 'must be 1-1024 printable ASCII characters' })
  UPSTREAM_CLIENT_SECRET?: string;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(50) @Max(60000)
  UPSTREAM_TIMEOUT_MS: number = 2000;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(1) @Max(1000)
  UPSTREAM_BREAKER_FAILURES: number = 5;

  @IsOptional() @Transform(toInteger) @IsInt() @Min(100) @Max(3_600_000)
  UPSTREAM_BREAKER_RESET_MS: number = 10000;

  @IsOptional() @IsAes256Key()
  TOKEN_ENCRYPTION_KEY?: string;

  @IsOptional() @IsAes256Key()
  TOKEN_ENCRYPTION_KEY_PREVIOUS?: string;

  /** With the 5-minute cap, 300 attempts keep trying for about a day. */
  @IsOptional() @Transform(toInteger) @IsInt() @Min(1) @Max(100_000)
  UPSTREAM_OUTBOX_MAX_ATTEMPTS: number = 300;
}

// The URL too: it is refused when it carries credentials, and must not print them then.
const SENSITIVE = new Set(['UPSTREAM_REVOCATION_URL', 'UPSTREAM_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY', 'TOKEN_ENCRYPTION_KEY_PREVIOUS']);
const NAMES = [
  'UPSTREAM_REVOCATION_URL',
  'UPSTREAM_CLIENT_ID',
  'UPSTREAM_CLIENT_SECRET',
  'TOKEN_ENCRYPTION_KEY',
  'TOKEN_ENCRYPTION_KEY_PREVIOUS',
  ...Object.keys(new UpstreamVariables()),
];

/**
 * Reads the upstream variables. They only matter when UPSTREAM_REVOCATION_URL is set, so only then
 * are they checked (docs/api.md §1): a stray TOKEN_ENCRYPTION_KEY does not stop a local-only gateway.
 */
export function loadUpstreamConfig(env: NodeJS.ProcessEnv): { upstream?: UpstreamConfig; problems: string[] } {
  if (!env.UPSTREAM_REVOCATION_URL) return { problems: [] };
  const raw: Record<string, string> = {};
  for (const key of NAMES) if (env[key] !== undefined && env[key] !== '') raw[key] = env[key];
  const vars = plainToInstance(UpstreamVariables, raw, { exposeDefaultValues: true });
  const problems = problemLines(validateSync(vars), raw, SENSITIVE);
  if (!vars.TOKEN_ENCRYPTION_KEY && problems.every((line) => !line.includes('TOKEN_ENCRYPTION_KEY'))) {
    problems.push('Invalid configuration: TOKEN_ENCRYPTION_KEY is required when UPSTREAM_REVOCATION_URL is set (32 random bytes in base64)');
  }
  // docs/api.md §6: the gateway revokes upstream "with its own credentials"; without a secret it is
  // a public client there (client_id in the body), but it always says who it is.
  if (!vars.UPSTREAM_CLIENT_ID && problems.every((line) => !line.includes('UPSTREAM_CLIENT_ID'))) {
    problems.push('Invalid configuration: UPSTREAM_CLIENT_ID is required when UPSTREAM_REVOCATION_URL is set (the gateway\'s client at the upstream)');
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    upstream: {
      url: vars.UPSTREAM_REVOCATION_URL!,
      dialect: vars.UPSTREAM_DIALECT,
      clientId: vars.UPSTREAM_CLIENT_ID,
      clientSecret: vars.UPSTREAM_CLIENT_SECRET,
      timeoutMs: vars.UPSTREAM_TIMEOUT_MS,
      breaker: { failures: vars.UPSTREAM_BREAKER_FAILURES, resetMs: vars.UPSTREAM_BREAKER_RESET_MS },
      encryptionKey: Buffer.from(vars.TOKEN_ENCRYPTION_KEY!, 'base64'),
      previousEncryptionKey: vars.TOKEN_ENCRYPTION_KEY_PREVIOUS ? Buffer.from(vars.TOKEN_ENCRYPTION_KEY_PREVIOUS, 'base64') : undefined,
      maxAttempts: vars.UPSTREAM_OUTBOX_MAX_ATTEMPTS,
    },
  };
}
