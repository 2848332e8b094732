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
  return override
    ? { access_token: override, refresh_token: override }
    : { access_token: 'NONE', refresh_token: 'RELATED_TOKENS' };
}
