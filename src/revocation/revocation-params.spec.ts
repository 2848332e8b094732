import { parseForm } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { defaultLevels } from './levels';
import { MAX_TOKEN_LENGTH, rejectRepeatedParameters, requiredToken, tokenTypeHint } from './revocation-params';

function expectProtocolError(fn: () => unknown, code: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).status).toBe(400);
  expect((error as ProtocolError).code).toBe(code);
}

describe('defaultLevels', () => {
  it('revokes related tokens for refresh tokens and nothing more for access tokens by default', () => {
    expect(defaultLevels()).toEqual({ access_token: 'NONE', refresh_token: 'RELATED_TOKENS' });
  });

  it.each(['NONE', 'RELATED_TOKENS', 'RELATED_CONSENT'] as const)('applies override %s to both token types', (level) => {
    expect(defaultLevels(level)).toEqual({ access_token: level, refresh_token: level });
  });
});

describe('rejectRepeatedParameters', () => {
  it('accepts distinct parameters', () => {
    expect(() => rejectRepeatedParameters(parseForm('token=a&token_type_hint=access_token'))).not.toThrow();
  });

  it('refuses a repeated parameter with 400 naming it', () => {
    expectProtocolError(() => rejectRepeatedParameters(parseForm('token=a&token=b')), 'invalid_request');
    expect(() => rejectRepeatedParameters(parseForm('x=1&token=a&token=b'))).toThrow('parameter token is repeated');
  });
});

describe('requiredToken', () => {
  it('returns the token up to the length limit', () => {
    expect(MAX_TOKEN_LENGTH).toBe(8192);
    const token = 'a'.repeat(8192);
    expect(requiredToken(parseForm(`token=${token}`))).toBe(token);
    expect(requiredToken(parseForm('token=abc+d'))).toBe('abc d');
  });

  it('refuses a token one character over the limit with 400', () => {
    expectProtocolError(() => requiredToken(parseForm(`token=${'a'.repeat(8193)}`)), 'invalid_request');
  });

  it.each([
    ['missing', 'token_type_hint=access_token'],
    ['empty', 'token='],
    ['repeated', 'token=a&token=b'],
  ])('refuses a %s token with 400', (_name, body) => {
    expectProtocolError(() => requiredToken(parseForm(body)), 'invalid_request');
  });
});

describe('tokenTypeHint', () => {
  it.each(['lenient', 'strict'] as const)('returns known hints and undefined when absent (%s)', (mode) => {
    expect(tokenTypeHint(parseForm('token_type_hint=access_token'), mode)).toBe('access_token');
    expect(tokenTypeHint(parseForm('token_type_hint=refresh_token'), mode)).toBe('refresh_token');
    expect(tokenTypeHint(parseForm('token=x'), mode)).toBeUndefined();
  });

  it('ignores an unknown hint when lenient', () => {
    expect(tokenTypeHint(parseForm('token_type_hint=id_token'), 'lenient')).toBeUndefined();
    expect(tokenTypeHint(parseForm('token_type_hint=ACCESS_TOKEN'), 'lenient')).toBeUndefined();
  });

  it('refuses an unknown hint when strict with unsupported_token_type', () => {
    expectProtocolError(() => tokenTypeHint(parseForm('token_type_hint=id_token'), 'strict'), 'unsupported_token_type');
  });
});
