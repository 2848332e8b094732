import { ValidateBy, type ValidationError } from 'class-validator';
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { TrustedProxies } from '../client-auth/mtls';
import { readSigningJwk, readVerificationJwk, SigningKeyProblem } from '../signing/signing-jwk';

// The building blocks src/config/variables.ts declares each variable with: how a value converts and
// the checks class-validator has no decorator for.

// Conversions read the raw string (`obj[key]`), so that nothing but the exact spellings converts:
// '   ' is not 0 and 'false' is not true.
export type Raw = { obj: Record<string, unknown>; key: string };
export const toInteger = ({ obj, key }: Raw) => (typeof obj[key] === 'string' && /^\d+$/.test(obj[key]) ? Number(obj[key]) : obj[key]);
export const toBoolean = ({ obj, key }: Raw) => ({ true: true, '1': true, false: false, '0': false })[String(obj[key])] ?? obj[key];
export const toList = ({ obj, key }: Raw) =>
  typeof obj[key] === 'string'
    ? obj[key]
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : obj[key];

/**
 * One line per bad variable (docs/api.md §1), naming it and the reason; the value is shown only for
 * variables that are not sensitive.
 */
export function problemLines(errors: ValidationError[], raw: Record<string, string>, sensitive: ReadonlySet<string>): string[] {
  return errors.map((error) => {
    // Checks are registered last-written first, so the last failed constraint is the first one written: the type check.
    const reason = Object.values(error.constraints ?? {}).at(-1) ?? 'is invalid';
    const shown = sensitive.has(error.property) ? '' : ` (got ${JSON.stringify(raw[error.property])})`;
    return `Invalid configuration: ${reason.startsWith(error.property) ? reason : `${error.property} ${reason}`}${shown}`;
  });
}

/**
 * A URL `new URL()` accepts, with one of these schemes (a bad port or host fails here, not at
 * connect). `plain`: no credentials (they belong in variables that are never logged) and no fragment.
 */
export const IsUrlWith = (protocols: string[], { plain = false } = {}) =>
  ValidateBy({
    name: 'isUrlWith',
    validator: {
      validate: (value) => {
        try {
          const url = new URL(String(value));
          if (typeof value !== 'string' || !protocols.includes(url.protocol) || url.hostname === '') return false;
          return !plain || (!url.username && !url.password && !url.hash);
        } catch {
          return false;
        }
      },
      defaultMessage: () => `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL${plain ? ' without credentials or fragment' : ''}`,
    },
  });

export const IsBindAddress = () =>
  ValidateBy({
    name: 'isBindAddress',
    validator: {
      validate: (value) => typeof value === 'string' && (isIP(value) !== 0 || value === 'localhost'),
      defaultMessage: () => 'must be an IPv4 or IPv6 address (0.0.0.0 or :: for every interface) or localhost',
    },
  });

export const IsReadableFile = () =>
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

export const IsCidrList = () =>
  ValidateBy({
    name: 'isCidrList',
    validator: {
      validate: (value) => Array.isArray(value) && value.every((entry) => TrustedProxies.isValidEntry(String(entry))),
      defaultMessage: () => 'must be a comma-separated list of IP addresses or CIDR ranges',
    },
  });

/** 32 bytes, standard or URL-safe base64 (docs/api.md §6); `openssl rand -base64 32` makes one. */
export const IsAes256Key = () =>
  ValidateBy({
    name: 'isAes256Key',
    validator: {
      validate: (value) => typeof value === 'string' && /^[A-Za-z0-9+/_-]{43}=?$/.test(value) && Buffer.from(value, 'base64').length === 32,
      defaultMessage: () => 'must be 32 random bytes in base64 (openssl rand -base64 32)',
    },
  });

/**
 * A private JWK the gateway can sign with (docs/api.md §13, src/signing/signing-jwk.ts). The
 * message is the refusal's own fixed sentence, which never repeats a value of the key.
 */
export const IsSigningJwk = ({ publicEnough = false } = {}) =>
  ValidateBy({
    name: 'isSigningJwk',
    validator: {
      validate: (value) => signingJwkProblem(value, publicEnough) === undefined,
      defaultMessage: (args) => signingJwkProblem(args?.value, publicEnough) ?? 'must be a JWK',
    },
  });

function signingJwkProblem(value: unknown, publicEnough: boolean): string | undefined {
  try {
    (publicEnough ? readVerificationJwk : readSigningJwk)(typeof value === 'string' ? value : undefined);
    return undefined;
  } catch (error) {
    return error instanceof SigningKeyProblem ? error.message : 'must be a JWK';
  }
}
