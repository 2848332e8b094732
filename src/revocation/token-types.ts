export const TOKEN_TYPES = ['access_token', 'refresh_token'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export function isTokenType(value: unknown): value is TokenType {
  return value === 'access_token' || value === 'refresh_token';
}
