import type { RegisteredToken } from '../tokens/token-lookup';
import { accessTokenType, INACTIVE, numericDate, registeredTokenAnswer } from './introspection-answer';
import { wantsSignedAnswer } from './introspection-pipeline';

const REGISTERED: RegisteredToken = {
  origin: 'registered',
  tokenType: 'access_token',
  clientId: 'tpp',
  grantId: 'g-1',
  consentId: null,
  subject: null,
  scope: null,
  cnf: null,
  issuedAt: null,
  registeredAt: new Date('2026-12-01T10:00:00.900Z'),
  expiresAt: new Date('2026-12-01T11:00:00.000Z'),
  revokedAt: null,
  active: true,
  tenantIssuer: null,
};

describe('registeredTokenAnswer', () => {
  it('a minimal access token: the required members only, iat from the registration, iss = the gateway', () => {
    expect(registeredTokenAnswer(REGISTERED, 'https://gw.example')).toStrictEqual({
      active: true,
      token_use: 'access_token',
      client_id: 'tpp',
      exp: 1796122800,
      iat: 1796119200,
      iss: 'https://gw.example',
      token_type: 'Bearer',
      grant_id: 'g-1',
    });
  });

  it('every attribute known: each is said; iat is issued_at; iss the tenant issuer', () => {
    const answer = registeredTokenAnswer(
      {
        ...REGISTERED,
        subject: 'psu',
        scope: 'a b',
        consentId: 'c-1',
        cnf: { 'x5t#S256': 'x'.repeat(43) },
        issuedAt: new Date('2026-12-01T09:59:59.999Z'),
        tenantIssuer: 'https://as.bank-b.example',
      },
      'https://gw.example',
    );
    expect(answer).toMatchObject({
      sub: 'psu',
      scope: 'a b',
      consent_id: 'c-1',
      cnf: { 'x5t#S256': 'x'.repeat(43) },
      iat: 1796119199,
      iss: 'https://as.bank-b.example',
    });
    expect(Object.values(answer)).not.toContain(null);
  });

  it('a JWT access token: its jti, no grant_id, its own iss', () => {
    const answer = registeredTokenAnswer({ ...REGISTERED, origin: 'jwt', grantId: null, jti: 'j-1', tenantIssuer: 'https://as.example' }, 'https://gw.example');
    expect(answer).toMatchObject({ jti: 'j-1', iss: 'https://as.example' });
    expect(answer).not.toHaveProperty('grant_id');
  });

  it('an inactive token is exactly {active:false}, whatever it holds', () => {
    expect(registeredTokenAnswer({ ...REGISTERED, active: false, subject: 'psu' }, 'https://gw.example')).toStrictEqual({ active: false });
    expect(INACTIVE).toStrictEqual({ active: false });
  });

  it('token_type: Bearer, DPoP for a jkt binding, none for a refresh token', () => {
    expect(accessTokenType('access_token', null)).toBe('Bearer');
    expect(accessTokenType('access_token', { 'x5t#S256': 'x' })).toBe('Bearer');
    expect(accessTokenType('access_token', { jkt: 'x' })).toBe('DPoP');
    expect(accessTokenType('refresh_token', { jkt: 'x' })).toBeUndefined();
    expect(registeredTokenAnswer({ ...REGISTERED, tokenType: 'refresh_token' }, 'i')).not.toHaveProperty('token_type');
  });

  it('numericDate truncates to whole seconds', () => {
    expect(numericDate(new Date(1999))).toBe(1);
  });
});

describe('wantsSignedAnswer (RFC 9701 §4)', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['application/json', false],
    ['application/token-introspection+jwt', true],
    ['application/token-introspection+jwt, application/json', true],
    ['application/token-introspection+jwt;q=0.5, application/json', false],
    ['application/json;q=0.5, application/token-introspection+jwt', true],
    ['application/json;q=0, application/token-introspection+jwt;q=0.1', true],
    ['application/token-introspection+jwt;q=0', false],
    ['application/jwt', false],
  ])('%j → %s', (accept, expected) => {
    expect(wantsSignedAnswer(accept)).toBe(expected);
  });
});
