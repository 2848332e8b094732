import type { Confirmation, RegisteredToken } from '../tokens/token-lookup';
import type { TokenType } from '../revocation/token-types';

/** RFC 7662 §2.2 for an active token, as docs/api.md §11.2 lists its members (absent ones are left out, never null). */
export interface ActiveAnswer {
  readonly active: true;
  readonly token_use: TokenType;
  readonly client_id: string;
  readonly exp: number;
  readonly iat: number;
  readonly iss: string;
  readonly token_type?: 'Bearer' | 'DPoP';
  readonly sub?: string;
  readonly scope?: string;
  readonly cnf?: Confirmation;
  readonly jti?: string;
  readonly grant_id?: string;
  readonly consent_id?: string;
}

/**
 * docs/api.md §11.2: exactly `{"active":false}` for every token that does not stand — unknown,
 * expired, revoked, of another tenant — so that an answer tells a caller nothing about why
 * (RFC 7662 §2.2: "the authorization server SHOULD NOT include any additional information").
 */
export const INACTIVE = Object.freeze({ active: false as const });

/** An upstream's active answer (docs/api.md §11.4), passed on as it came. */
export type UpstreamAnswer = Readonly<Record<string, unknown>> & { readonly active: true };

export type IntrospectionAnswer = ActiveAnswer | UpstreamAnswer | typeof INACTIVE;

/** NumericDate (RFC 7519 §2): whole seconds since the epoch. */
export const numericDate = (at: Date): number => Math.floor(at.getTime() / 1000);

/**
 * RFC 6749 §5.1 `token_type`: an access token is a bearer token, or a DPoP token when it is bound
 * to a DPoP key (RFC 9449 §6.1, `cnf.jkt`); a refresh token has none.
 */
export function accessTokenType(use: TokenType, cnf: Confirmation | null | undefined): 'Bearer' | 'DPoP' | undefined {
  if (use !== 'access_token') return undefined;
  return cnf?.jkt !== undefined ? 'DPoP' : 'Bearer';
}

/**
 * A known token's answer: `iss` is its tenant's issuer, else ISSUER (a JWT access token's own);
 * `iat` its `issued_at`, else its registration (a JWT's `iat`, else when it was first seen).
 */
export function registeredTokenAnswer(token: RegisteredToken, gatewayIssuer: string): IntrospectionAnswer {
  if (!token.active) return INACTIVE;
  if (token.upstreamAnswer) return token.upstreamAnswer as UpstreamAnswer;
  const tokenType = accessTokenType(token.tokenType, token.cnf);
  return {
    active: true,
    token_use: token.tokenType,
    client_id: token.clientId,
    exp: numericDate(token.expiresAt),
    iat: numericDate(token.issuedAt ?? token.registeredAt),
    iss: token.tenantIssuer ?? gatewayIssuer,
    ...(tokenType ? { token_type: tokenType } : {}),
    ...(token.subject !== null ? { sub: token.subject } : {}),
    ...(token.scope !== null ? { scope: token.scope } : {}),
    ...(token.cnf !== null ? { cnf: token.cnf } : {}),
    ...(token.jti !== undefined ? { jti: token.jti } : {}),
    ...(token.grantId !== null ? { grant_id: token.grantId } : {}),
    ...(token.consentId !== null ? { consent_id: token.consentId } : {}),
  };
}
