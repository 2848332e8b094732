import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { inspect } from 'node:util';
import { loadConfig } from '../config/config';
import { jwkThumbprint, readSigningJwk, SigningKeyProblem } from './signing-jwk';

const jwkOf = (pair: { privateKey: { export(o: { format: 'jwk' }): JsonWebKey } }) => pair.privateKey.export({ format: 'jwk' }) as Record<string, string>;
const ec256 = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const ec384 = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
const rsa2048 = jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const rsa1024 = jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }));
const ed25519 = jwkOf(generateKeyPairSync('ed25519'));
const x25519 = jwkOf(generateKeyPairSync('x25519'));
const otherEc = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const publicOnly = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest }: Record<string, string>) => rest;

/** Every value of the key that is not a bare name: none may appear in a refusal. */
const material = (jwk: Record<string, string>) => Object.values(jwk).filter((value) => value.length > 12);

function refusal(raw: unknown): string {
  try {
    readSigningJwk(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(SigningKeyProblem);
    return (error as Error).message;
  }
  throw new Error('the key was accepted');
}

describe('SIGNING_KEY: which JWKs the gateway signs with', () => {
  it.each([
    ['EC P-256 without alg', 'ES256', ec256],
    ['EC P-256 with alg ES256', 'ES256', { ...ec256, alg: 'ES256' }],
    ['RSA 2048 without alg (PS256, as FAPI wants)', 'PS256', rsa2048],
    ['RSA 2048 with alg RS256', 'RS256', { ...rsa2048, alg: 'RS256' }],
    ['RSA 2048 with alg PS256', 'PS256', { ...rsa2048, alg: 'PS256' }],
    ['OKP Ed25519 without alg', 'EdDSA', ed25519],
    ['EC P-256 with use sig', 'ES256', { ...ec256, use: 'sig' }],
  ])('accepts %s, signing %s', (_name, alg, jwk) => {
    expect(readSigningJwk(JSON.stringify(jwk)).alg).toBe(alg);
  });

  it('names the key by its kid, else by its RFC 7638 thumbprint', () => {
    expect(readSigningJwk({ ...ec256, kid: 'gateway-2026' }).kid).toBe('gateway-2026');
    expect(readSigningJwk(ec256).kid).toBe(jwkThumbprint(publicOnly(ec256)));
    // RFC 7638 §3.1's own example.
    const example = {
      kty: 'RSA',
      e: 'AQAB',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    };
    expect(jwkThumbprint(example)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('publishes only public members, with kid, alg and use sig', () => {
    for (const jwk of [ec256, rsa2048, ed25519]) {
      const { publicJwk } = readSigningJwk(jwk);
      expect(Object.keys(publicJwk).sort()).toEqual([...Object.keys(publicOnly(jwk)), 'kid', 'alg', 'use'].sort());
      expect(publicJwk.use).toBe('sig');
    }
  });

  it('keeps the private half where neither JSON nor inspection shows it', () => {
    const key = readSigningJwk(ec256);
    expect(JSON.stringify(key)).not.toContain(ec256.d);
    expect(inspect(key, { depth: 10 })).not.toContain(ec256.d);
  });

  it.each([
    ['a public-only JWK', publicOnly(ec256), /no "d" member/],
    ['an HMAC secret (kty oct)', { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' }, /kty "oct"/],
    ['RSA of 1024 bits', rsa1024, /at least 2048 bits \(this one has 1024\)/],
    ['EC P-384 (ES256 needs P-256)', ec384, /crv "P-384", but ES256 needs kty "EC" with crv "P-256"/],
    ['an EC key labelled EdDSA', { ...ec256, alg: 'EdDSA' }, /EdDSA needs kty "OKP" with crv "Ed25519"/],
    ['an RSA key labelled ES256', { ...rsa2048, alg: 'ES256' }, /ES256 needs kty "EC"/],
    ['an X25519 key (key agreement, not signing)', x25519, /crv "X25519"/],
    ['alg none', { ...ec256, alg: 'none' }, /alg "none", which the gateway does not sign with/],
    ['alg HS256', { ...ec256, alg: 'HS256' }, /alg "HS256"/],
    ['an unknown alg, not repeated', { ...ec256, alg: ec256.d }, /this alg, which/],
    ['use enc', { ...ec256, use: 'enc' }, /"use" is not "sig"/],
    ['a private half of another key', { ...ec256, d: otherEc.d }, /does not belong/],
    ['a mangled private member', { ...ec256, d: 'AAAA' }, /not a valid EC private key|does not belong/],
    ['no kty', { d: ec256.d }, /kty "EC", "RSA" or "OKP"/],
    ['not JSON', `{"kty":"EC","d":"${ec256.d}"`, /not JSON/],
    ['a JSON array', '[]', /one JSON object/],
    ['an empty kid', { ...ec256, kid: '' }, /"kid"/],
  ])('refuses %s, without repeating the key', (_name, jwk, reason) => {
    const message = refusal(typeof jwk === 'string' ? jwk : JSON.stringify(jwk));
    expect(message).toMatch(reason);
    for (const value of [...material(ec256), ...material(rsa1024), ...material(ec384), ...material(x25519), ...material(otherEc)]) {
      expect(message).not.toContain(value);
    }
  });
});

describe('SIGNING_KEY and SIGNING_KEY_PREVIOUS in the configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  };

  it('stops the start naming the variable, never printing the key', () => {
    const message = problems({ SIGNING_KEY: JSON.stringify(publicOnly(ec256)), SIGNING_KEY_PREVIOUS: JSON.stringify(publicOnly(rsa1024)) });
    expect(message.split('\n')).toEqual([
      'Invalid configuration: SIGNING_KEY must be a private key: the JWK has no "d" member (a public key cannot sign)',
      'Invalid configuration: SIGNING_KEY_PREVIOUS must be an RSA key of at least 2048 bits (this one has 1024)',
    ]);
  });

  it('refuses SIGNING_KEY_PREVIOUS without SIGNING_KEY', () => {
    expect(problems({ SIGNING_KEY_PREVIOUS: JSON.stringify(ec256) })).toBe(
      'Invalid configuration: SIGNING_KEY_PREVIOUS needs SIGNING_KEY: the previous key is published beside the one configured',
    );
  });

  it('refuses the same kid in both', () => {
    expect(problems({ SIGNING_KEY: JSON.stringify({ ...ec256, kid: 'k1' }), SIGNING_KEY_PREVIOUS: JSON.stringify({ ...ed25519, kid: 'k1' }) })).toMatch(
      /SIGNING_KEY and SIGNING_KEY_PREVIOUS have the same kid/,
    );
    expect(problems({ SIGNING_KEY: JSON.stringify(ec256), SIGNING_KEY_PREVIOUS: JSON.stringify(ec256) })).toMatch(/the same kid/);
  });

  it('takes SIGNING_KEY_PREVIOUS as its public members alone, checked like a signing key', () => {
    const config = loadConfig({ SIGNING_KEY: JSON.stringify(ed25519), SIGNING_KEY_PREVIOUS: JSON.stringify({ ...publicOnly(rsa2048), alg: 'RS256' }) });
    expect(config.signing?.previous).toMatchObject({ alg: 'RS256', kid: jwkThumbprint(publicOnly(rsa2048)) });
    expect(problems({ SIGNING_KEY: JSON.stringify(ed25519), SIGNING_KEY_PREVIOUS: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) })).toMatch(/kty "oct"/);
    expect(problems({ SIGNING_KEY: JSON.stringify(ed25519), SIGNING_KEY_PREVIOUS: JSON.stringify({ ...publicOnly(rsa2048), p: rsa2048.p }) })).toMatch(
      /private members but no "d"/,
    );
  });

  it('reads both: the previous key as its public half only', () => {
    const config = loadConfig({ SIGNING_KEY: JSON.stringify(rsa2048), SIGNING_KEY_PREVIOUS: JSON.stringify(ec256) });
    expect(config.signing?.key.alg).toBe('PS256');
    expect(config.signing?.previous).not.toHaveProperty('privateKey');
    expect(JSON.stringify(config)).not.toContain(rsa2048.d);
    expect(JSON.stringify(config)).not.toContain(ec256.d);
  });
});
