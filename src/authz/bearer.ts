/**
 * RFC 6750 §2.1: `Authorization: Bearer <b64token>`, the scheme case-insensitive (RFC 9110 §11.1),
 * one or more spaces after it. b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * Anything else — another scheme, an empty or malformed token, a list — is no bearer token.
 */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The longest token the gateway registers (docs/api.md §9): a longer one cannot be known. */
export const MAX_TOKEN_LENGTH = 8192;

export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 64) return undefined;
  const token = BEARER.exec(header)?.[1];
  return token !== undefined && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}
