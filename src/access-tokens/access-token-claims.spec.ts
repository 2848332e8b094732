import fc from 'fast-check';
import { accessTokenClaims, looksLikeAccessToken, unverifiedIssuer } from './access-token-claims';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jws = (header: unknown, payload: unknown = {}, signature = 'c2ln') => `${b64(header)}.${b64(payload)}.${signature}`;
const NOW = 1_800_000_000;

describe('looksLikeAccessToken', () => {
  it.each(['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt'])('takes typ %s', (typ) => {
    expect(looksLikeAccessToken(jws({ alg: 'PS256', typ }))).toBe(true);
  });

  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'])('takes alg %s', (alg) => {
    expect(looksLikeAccessToken(jws({ alg, typ: 'at+jwt' }))).toBe(true);
  });

  it.each([
    ['alg none', jws({ alg: 'none', typ: 'at+jwt' })],
    ['an HMAC', jws({ alg: 'HS256', typ: 'at+jwt' })],
    ['RS384 (not one of the four)', jws({ alg: 'RS384', typ: 'at+jwt' })],
    ['typ JWT', jws({ alg: 'PS256', typ: 'JWT' })],
    ['typ at+jwt with a suffix', jws({ alg: 'PS256', typ: 'at+jwt; x=1' })],
    ['no typ', jws({ alg: 'PS256' })],
    ['a typ that is not a string', jws({ alg: 'PS256', typ: ['at+jwt'] })],
    ['a header that is not JSON', `${b64('{nope')}.${b64({})}.c2ln`],
    ['a header that is an array', jws([{ alg: 'PS256', typ: 'at+jwt' }])],
    ['no signature', jws({ alg: 'PS256', typ: 'at+jwt' }, {}, '')],
    ['a JWE (five parts)', `${jws({ alg: 'PS256', typ: 'at+jwt' })}.a.b`],
    ['an opaque token', 'Z2VuZXJpYy1vcGFxdWUtdG9rZW4'],
  ])('refuses %s', (_name, token) => {
    expect(looksLikeAccessToken(token)).toBe(false);
  });

  it('never throws and never takes a string that is not three base64url segments', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (token) => {
        const taken = looksLikeAccessToken(token);
        if (taken) expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      }),
    );
  });

  it('takes exactly the headers whose typ and alg are allowed, whatever else they hold', () => {
    const typ = fc.oneof(fc.constantFrom('at+jwt', 'application/at+jwt', 'JWT', 'at+JWT', 'jwt', ''), fc.string());
    const alg = fc.oneof(fc.constantFrom('RS256', 'PS256', 'ES256', 'EdDSA', 'none', 'HS256', 'ES512'), fc.string());
    fc.assert(
      fc.property(typ, alg, fc.dictionary(fc.string(), fc.jsonValue()), (t, a, extra) => {
        const header = { ...extra, typ: t, alg: a };
        const expected = /^(application\/)?at\+jwt$/i.test(t) && ['RS256', 'PS256', 'ES256', 'EdDSA'].includes(a);
        expect(looksLikeAccessToken(jws(header))).toBe(expected);
      }),
    );
  });
});

describe('unverifiedIssuer', () => {
  it('reads iss from the payload, or nothing', () => {
    expect(unverifiedIssuer(jws({}, { iss: 'https://as.example' }))).toBe('https://as.example');
    expect(unverifiedIssuer(jws({}, { iss: 7 }))).toBeUndefined();
    expect(unverifiedIssuer(`${b64({})}.${b64('not json')}.x`)).toBeUndefined();
    expect(unverifiedIssuer(jws({}, null))).toBeUndefined();
  });
});

describe('accessTokenClaims', () => {
  const base = { iss: 'https://as.example', client_id: 'tpp', iat: NOW, exp: NOW + 600 };
  const claims = (payload: Record<string, unknown>, consentClaim = 'consent_id', max = 3600) => accessTokenClaims(payload, consentClaim, max, NOW);

  it('takes the claims the gateway uses', () => {
    expect(claims({ ...base, sub: 'psu', scope: 'a b', jti: 'j', consent_id: 'c', cnf: { 'x5t#S256': 'x' }, aud: 'api' })).toEqual({
      iss: 'https://as.example',
      clientId: 'tpp',
      iat: NOW,
      exp: NOW + 600,
      sub: 'psu',
      scope: 'a b',
      jti: 'j',
      consentId: 'c',
      cnf: { 'x5t#S256': 'x' },
    });
  });

  it('reads the consent from the configured claim only', () => {
    expect(claims({ ...base, openbanking_intent_id: 'intent-1', consent_id: 'c' }, 'openbanking_intent_id')?.consentId).toBe('intent-1');
    expect(claims({ ...base, consent_id: 'c' }, 'openbanking_intent_id')?.consentId).toBeUndefined();
  });

  it.each([
    ['no client_id', { client_id: undefined }],
    ['an empty client_id', { client_id: '' }],
    ['a numeric consent', { consent_id: 12 }],
    ['a sub that is an object', { sub: { id: 'psu' } }],
    ['a scope array', { scope: ['a'] }],
    ['a numeric jti', { jti: 1 }],
    ['cnf without a method the gateway knows', { cnf: { jwk: {} } }],
    ['cnf that is a string', { cnf: 'x' }],
    ['cnf x5t#S256 that is not a string', { cnf: { 'x5t#S256': 1 } }],
    ['iat beyond the skew in the future', { iat: NOW + 11, exp: NOW + 100 }],
    ['a lifetime above the maximum', { exp: NOW + 3601 }],
    ['no iat (RFC 9068 §2.2: nothing would bound its life)', { iat: undefined, exp: NOW + 60 }],
    ['a numeric string iat', { iat: String(NOW) }],
  ])('refuses %s', (_name, change) => {
    const payload: Record<string, unknown> = { ...base, ...change };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    expect(claims(payload)).toBeUndefined();
  });

  it('reads no inherited member as the consent claim', () => {
    expect(claims({ ...base }, 'constructor')).toBeDefined();
    expect(claims({ ...base }, 'constructor')?.consentId).toBeUndefined();
  });

  it('takes a lifetime of exactly the maximum, and iat within the skew', () => {
    expect(claims({ ...base, exp: NOW + 3600 })).toBeDefined();
    expect(claims({ ...base, iat: NOW + 10, exp: NOW + 100 })).toBeDefined();
  });
});
