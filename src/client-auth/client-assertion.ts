import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** RFC 7523 §3 and docs/api.md §5: bounds on a client assertion's times, in seconds. */
export const CLOCK_SKEW_S = 10;
export const MAX_LIFETIME_S = 60 * 60;

/** FAPI 1.0 Advanced §8.6: PS256, ES256 (and EdDSA here); the plain profiles also take RS256. */
export const FAPI_ALGORITHMS = ['PS256', 'ES256', 'EdDSA'] as const;
export const PLAIN_ALGORITHMS = ['RS256', ...FAPI_ALGORITHMS] as const;

/** Why an assertion was refused: logged under the client_auth_id, never sent. */
export class AssertionRejected extends Error {}

export interface VerifiedAssertion {
  readonly jti: string;
  /**
   * Whole seconds since the epoch until which this assertion would still verify (`exp` plus the allowed
   * skew): its jti must stay single-use until then, or a replay inside the skew would pass.
   */
  readonly usableUntil: number;
}

/** The client the assertion claims to be (`sub`, which must equal `iss`), read before verification. */
export function assertedClientId(assertion: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw new AssertionRejected('client_assertion is not a JWT');
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new AssertionRejected('client_assertion has no sub');
  return claims.sub;
}

/**
 * RFC 7523 §3 as docs/api.md §5 tightens it: signature by a registered key with an allowed algorithm,
 * `iss` = `sub` = client_id, `aud` naming this server (issuer or endpoint URL), `exp` required and
 * at most 60 minutes after `iat` (or now), `iat`/`nbf` at most 10 s ahead, and a `jti`.
 */
export async function verifyClientAssertion(
  assertion: string,
  expected: { clientId: string; audiences: readonly string[]; algorithms: readonly string[]; keys: JWTVerifyGetKey; now?: number },
): Promise<VerifiedAssertion> {
  const now = expected.now ?? Math.floor(Date.now() / 1000);
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, expected.keys, {
      algorithms: [...expected.algorithms],
      audience: [...expected.audiences],
      issuer: expected.clientId,
      subject: expected.clientId,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
      currentDate: new Date(now * 1000),
    }));
  } catch (error) {
    throw new AssertionRejected(describe(error));
  }
  const { exp, iat, jti } = payload as { exp: number; iat?: number; jti?: unknown };
  if (typeof jti !== 'string' || jti === '' || jti.length > 255) throw new AssertionRejected('jti must be a non-empty string of at most 255 characters');
  // Stored as PostgreSQL text, which has no NUL and no lone surrogate (the driver would turn one
  // into U+FFFD): such a jti could not be recorded as sent, so it is refused.
  if (NOT_STORABLE.test(jti)) throw new AssertionRejected('jti must be well-formed text without NUL');
  if (iat !== undefined && iat > now + CLOCK_SKEW_S) throw new AssertionRejected('iat is in the future');
  if (exp - (iat ?? now) > MAX_LIFETIME_S) throw new AssertionRejected('assertion lifetime exceeds 60 minutes');
  // RFC 7519 §2: a NumericDate may have a fraction; the stores keep whole seconds, rounded up.
  return { jti, usableUntil: Math.ceil(exp) + CLOCK_SKEW_S };
}

const NOT_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describe(error: unknown): string {
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
