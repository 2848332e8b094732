import { repeatedParameters, single, type FormBody } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { defaultLevels, REVOCATION_LEVELS, type LevelByType, type RevocationLevel } from './levels';
import { isTokenType, type TokenType } from './token-types';

/** What a request asks to revoke, once its profile has read its parameters. */
export type RevocationTarget =
  | { readonly kind: 'token'; readonly token: string; readonly hint?: TokenType; readonly levels: LevelByType }
  | { readonly kind: 'consent'; readonly consentId: string };

/** A profile's parameter table (docs/api.md §2) as a reader; REVOCATION_DEFAULT_LEVEL is `configuredLevel`. */
export type TargetReader = (form: FormBody, configuredLevel?: RevocationLevel) => RevocationTarget;

/** One `token` revoked at the default levels (rfc7009, fapi, idv1); `hint` says how an unknown hint is met. */
export function tokenTarget(hint: 'lenient' | 'strict'): TargetReader {
  return (form, configuredLevel) => {
    const token = requiredToken(form);
    return { kind: 'token', token, hint: tokenTypeHint(form, hint), levels: defaultLevels(configuredLevel) };
  };
}

/** docs/api.md §2 `oam`: the caller picks the level for both token types (default NONE). */
export const oamTarget: TargetReader = (form, configuredLevel) => {
  const token = requiredToken(form);
  const hint = oamTokenTypeHint(form);
  const level = oamRevocationLevel(form, configuredLevel ?? 'NONE');
  return { kind: 'token', token, hint, levels: { access_token: level, refresh_token: level } };
};

/** docs/api.md §2 `cdr`: the arrangement (consent) and every token under it. */
export const arrangementTarget: TargetReader = (form) => ({ kind: 'consent', consentId: requiredArrangementId(form) });

/** docs/api.md §2: longer tokens are refused before any hashing or lookup. */
export const MAX_TOKEN_LENGTH = 8192;

/** RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once." */
export function rejectRepeatedParameters(form: FormBody): void {
  const repeated = repeatedParameters(form);
  if (repeated.length > 0) throw ProtocolError.invalidRequest(`parameter ${repeated[0]} is repeated`);
}

/** RFC 7009 §2.1: `token` is REQUIRED. */
export function requiredToken(form: FormBody): string {
  const token = single(form, 'token');
  if (!token) throw ProtocolError.missingParameter('token');
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
  throw new ProtocolError('unsupported_token_type', 'token_type_hint must be access_token or refresh_token');
}

const OAM_HINTS: Readonly<Record<string, TokenType | undefined>> = { ACCESS_TOKEN: 'access_token', REFRESH_TOKEN: 'refresh_token', NONE: undefined };

/** docs/api.md §2 `oam`: `token_type_hint` ∈ {ACCESS_TOKEN, REFRESH_TOKEN, NONE} (default NONE); anything else is a 400. */
export function oamTokenTypeHint(form: FormBody): TokenType | undefined {
  const hint = single(form, 'token_type_hint') ?? 'NONE';
  if (!Object.hasOwn(OAM_HINTS, hint)) {
    throw new ProtocolError('unsupported_token_type', 'token_type_hint must be ACCESS_TOKEN, REFRESH_TOKEN or NONE');
  }
  return OAM_HINTS[hint];
}

/** docs/api.md §2 `oam`: `revocation_level` ∈ {NONE, RELATED_TOKENS, RELATED_CONSENT}; absent → `fallback`. */
export function oamRevocationLevel(form: FormBody, fallback: RevocationLevel): RevocationLevel {
  const level = single(form, 'revocation_level');
  if (level === undefined) return fallback;
  if (!(REVOCATION_LEVELS as readonly string[]).includes(level)) {
    throw ProtocolError.invalidRequest('revocation_level must be NONE, RELATED_TOKENS or RELATED_CONSENT');
  }
  return level as RevocationLevel;
}

/** docs/api.md §2 `cdr`: `cdr_arrangement_id` (the consent id) is required. */
export function requiredArrangementId(form: FormBody): string {
  const id = single(form, 'cdr_arrangement_id');
  if (!id) throw ProtocolError.missingParameter('cdr_arrangement_id');
  if (id.length > 255) throw ProtocolError.invalidRequest('cdr_arrangement_id is longer than 255 characters');
  return id;
}
