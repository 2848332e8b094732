import { repeatedParameters, single, type FormBody } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { isTokenType, type TokenType } from './token-types';

/** CONTRACT §2: longer tokens are refused before any hashing or lookup. */
export const MAX_TOKEN_LENGTH = 8192;

/** RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once." */
export function rejectRepeatedParameters(form: FormBody): void {
  const repeated = repeatedParameters(form);
  if (repeated.length > 0) throw ProtocolError.invalidRequest(`parameter ${repeated[0]} is repeated`);
}

/** RFC 7009 §2.1: `token` is REQUIRED. */
export function requiredToken(form: FormBody): string {
  const token = single(form, 'token');
  if (!token) throw ProtocolError.invalidRequest('token is required');
  if (token.length > MAX_TOKEN_LENGTH) throw ProtocolError.invalidRequest(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  return token;
}

/**
 * `token_type_hint` (RFC 7009 §2.1). `lenient`: an unknown value is ignored, as RFC 7009 §2.2
 * allows the server to ("the authorization server MAY ignore it"); strict profiles refuse it.
 * Tokens of both types share one index keyed by hash, so the hint never changes the result: the
 * lookup already covers every type in one probe.
 */
export function tokenTypeHint(form: FormBody, mode: 'lenient' | 'strict'): TokenType | undefined {
  const hint = single(form, 'token_type_hint');
  if (hint === undefined || isTokenType(hint)) return hint;
  if (mode === 'lenient') return undefined;
  throw new ProtocolError(400, 'unsupported_token_type', 'token_type_hint must be access_token or refresh_token');
}
