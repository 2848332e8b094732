import { decodeProtectedHeader, type JWTPayload } from 'jose';
import type { Confirmation } from '../tokens/token-lookup';

/** docs/api.md §11.3: the JWS algorithms of a JWT access token; never `none`, never an HMAC (RFC 8725 §3.1, §3.2). */
export const ACCESS_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** RFC 9068 §2.1: `typ` is `at+jwt`; RFC 7515 §4.1.9 lets the `application/` prefix be left out. */
const ACCESS_TOKEN_TYP = /^(application\/)?at\+jwt$/i;
/** Three base64url segments: the JWS Compact Serialization (RFC 7515 §7.1). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ALGORITHMS: ReadonlySet<string> = new Set(ACCESS_TOKEN_ALGORITHMS);

/** The skew allowed on `exp` (and on `iat`, `nbf`): docs/api.md §11.3. */
export const CLOCK_SKEW_S = 10;

/** What a verified JWT access token says, as the gateway uses it (docs/api.md §11.3). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly clientId: string;
  readonly exp: number;
  readonly iat: number;
  readonly sub?: string;
  readonly scope?: string;
  readonly jti?: string;
  readonly cnf?: Confirmation;
  readonly consentId?: string;
}

/**
 * Whether a token is worth verifying as a JWT access token: a JWS whose protected header says
 * `typ` at+jwt and one of the four algorithms. Reads the header only (no key, no signature), so
 * that an opaque token costs a regular expression, and a JWT that could never be accepted costs
 * no key fetch.
 */
export function looksLikeAccessToken(token: string): boolean {
  if (!JWS_COMPACT.test(token)) return false;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return false;
  }
  return typeof header.typ === 'string' && ACCESS_TOKEN_TYP.test(header.typ) && typeof header.alg === 'string' && ALGORITHMS.has(header.alg);
}

/** The `iss` of a JWS's payload, read before anything is verified (to pick nothing but the keys it could be signed with). */
export function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && typeof (payload as JWTPayload).iss === 'string' ? (payload as JWTPayload).iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a JWT access token whose signature, `typ`, `iss`, `exp` and `nbf` jose has
 * verified, or undefined when it is not one the gateway can know (docs/api.md §11.3):
 * - `client_id` (RFC 9068 §2.2) a non-empty string: whose token it is;
 * - `sub`, `scope`, `jti` and the consent claim strings when present, `cnf` an object with an
 *   `x5t#S256` or `jkt` string: a claim of another type could let the token slip past a rule or
 *   past its binding, so the token is not known at all;
 * - `iat` (RFC 9068 §2.2 REQUIRED) not in the future beyond the skew: a rule covers the tokens
 *   issued before it, and without `iat` nothing bounds how long a token lives;
 * - `exp` at most `maxLifetimeS` after `iat`: a rule is kept that long, and must outlive every
 *   token it covers.
 */
export function accessTokenClaims(payload: JWTPayload, consentClaim: string, maxLifetimeS: number, now = Date.now() / 1000): AccessTokenClaims | undefined {
  const { iss, client_id: clientId, exp, iat, sub, scope, jti } = payload as JWTPayload & { client_id?: unknown; scope?: unknown };
  // Own members only: a claim name such as `constructor` must not read the prototype.
  const consentId = Object.hasOwn(payload, consentClaim) ? payload[consentClaim] : undefined;
  if (typeof iss !== 'string' || typeof clientId !== 'string' || clientId === '' || typeof exp !== 'number') return undefined;
  if (typeof iat !== 'number' || iat > now + CLOCK_SKEW_S) return undefined;
  if (exp - iat > maxLifetimeS) return undefined;
  for (const value of [sub, scope, jti, consentId]) if (value !== undefined && typeof value !== 'string') return undefined;
  const cnf = confirmation(payload.cnf);
  if (cnf === null) return undefined;
  return {
    iss,
    clientId,
    exp,
    iat,
    ...(sub !== undefined ? { sub } : {}),
    ...(scope !== undefined ? { scope: scope as string } : {}),
    ...(jti !== undefined ? { jti } : {}),
    ...(cnf !== undefined ? { cnf } : {}),
    ...(consentId !== undefined ? { consentId: consentId as string } : {}),
  };
}

/**
 * RFC 7800 §3.1 `cnf`: the confirmation methods the gateway can enforce or pass on, `x5t#S256`
 * (RFC 8705 §3.1) and `jkt` (RFC 9449 §6.1). Undefined when absent; null when present without
 * either as a string (a binding the gateway could not honour is not ignored).
 */
function confirmation(value: unknown): Confirmation | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { 'x5t#S256': x5t, jkt } = value as Record<string, unknown>;
  if ((x5t !== undefined && typeof x5t !== 'string') || (jkt !== undefined && typeof jkt !== 'string')) return null;
  if (x5t === undefined && jkt === undefined) return null;
  return { ...(x5t !== undefined ? { 'x5t#S256': x5t } : {}), ...(jkt !== undefined ? { jkt } : {}) };
}
