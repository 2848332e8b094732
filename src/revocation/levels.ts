import type { TokenType } from './token-types';

/** docs/api.md §2 "Revocation levels": what one request revokes besides the presented token. */
export const REVOCATION_LEVELS = ['NONE', 'RELATED_TOKENS', 'RELATED_CONSENT'] as const;
export type RevocationLevel = (typeof REVOCATION_LEVELS)[number];

/** The level to apply to each token type, decided before the token is looked up. */
export type LevelByType = Readonly<Record<TokenType, RevocationLevel>>;

/**
 * RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate the access tokens issued from
 * it, revoking an access token MAY revoke its refresh token — so refresh → RELATED_TOKENS and
 * access → NONE, unless the operator sets one default for both (REVOCATION_DEFAULT_LEVEL).
 */
export function defaultLevels(override?: RevocationLevel): LevelByType {
  return override ? UNIFORM[override] : RFC7009_DEFAULT;
}

// Made once: a request's target shares them (LevelByType is read-only).
const RFC7009_DEFAULT: LevelByType = Object.freeze({ access_token: 'NONE', refresh_token: 'RELATED_TOKENS' });
const UNIFORM = Object.fromEntries(REVOCATION_LEVELS.map((level) => [level, Object.freeze({ access_token: level, refresh_token: level })])) as Readonly<
  Record<RevocationLevel, LevelByType>
>;
