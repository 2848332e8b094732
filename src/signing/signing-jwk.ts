import { constants, createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { privateKeyMembers } from '../client-auth/key-sets';

/*
 * docs/api.md §13: what SIGNING_KEY may be, read once at start. Every refusal is a fixed sentence:
 * it may name a member, an algorithm or a curve the registries know, or a key size, but never
 * echoes a value of the key (the variable is sensitive, and so is whatever was pasted into it).
 */

export const SIGNING_ALGORITHMS = ['ES256', 'PS256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** RFC 7517 §4 members of a published key: no private member ever. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly use: 'sig';
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

/** A key read from SIGNING_KEY (or the database): the private half only as an opaque KeyObject. */
export interface SigningKeyMaterial {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  /** Serialises to `{}` and inspects as `KeyObject { … }`: a stray log line cannot carry it. */
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicJwk;
}

/** The public half of a key from SIGNING_KEY_PREVIOUS: published, never used to sign. */
export type VerificationKey = Omit<SigningKeyMaterial, 'privateKey'>;

const MIN_RSA_BITS = 2048;
/** Algorithm and curve names the JOSE registries know: safe to repeat in an error line. */
const KNOWN_ALGS = new Set(['none', 'HS256', 'HS384', 'HS512', 'RS384', 'RS512', 'ES384', 'ES512', 'ES256K', 'PS384', 'PS512', 'Ed25519', 'Ed448']);
const KNOWN_CURVES = new Set(['P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'Ed448', 'X25519', 'X448']);
const named = (value: unknown, known: ReadonlySet<string>, what: string) =>
  typeof value === 'string' && known.has(value) ? `${what} "${value}"` : `this ${what}`;

/** Which key type and curve each algorithm signs with. */
const KEY_TYPES: Record<SigningAlgorithm, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  PS256: { kty: 'RSA' },
  RS256: { kty: 'RSA' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
};

export class SigningKeyProblem extends Error {}

/**
 * Reads a private JWK for signing, or throws SigningKeyProblem with a sentence that completes
 * "SIGNING_KEY …". `alg` is the JWK's own, or inferred from the key: EC P-256 is ES256, OKP
 * Ed25519 is EdDSA, and RSA is PS256 (FAPI 1.0 Advanced §8.6 and FAPI 2.0 allow PS256, not RS256;
 * an RSA key meant for RS256 says `"alg":"RS256"`). `kid` is the JWK's own, or its RFC 7638
 * thumbprint.
 */
export function readSigningJwk(raw: unknown): SigningKeyMaterial {
  const key = jwkObject(raw);
  const alg = algorithmOf(key);
  if (!Object.hasOwn(key, 'd')) throw new SigningKeyProblem('must be a private key: the JWK has no "d" member (a public key cannot sign)');
  checkUseAndKid(key);
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
    publicKey = createPublicKey({ key: publicMembers(key) as JsonWebKey, format: 'jwk' });
  } catch {
    throw new SigningKeyProblem(`is not a valid ${key.kty as string} private key (its members do not import)`);
  }
  checkSize(alg, publicKey);
  if (!halvesMatch(alg, privateKey, publicKey)) throw new SigningKeyProblem('has a private half that does not belong to its public members');
  const publicJwk = toPublicJwk(publicKey, alg, typeof key.kid === 'string' ? key.kid : undefined);
  return { alg, kid: publicJwk.kid, privateKey, publicJwk };
}

/**
 * SIGNING_KEY_PREVIOUS: only published, so its public JWK is enough (and safer to keep around); the
 * former SIGNING_KEY as it was is accepted too, read as strictly, and its private half dropped.
 */
export function readVerificationJwk(raw: unknown): VerificationKey {
  const key = jwkObject(raw);
  if (Object.hasOwn(key, 'd')) {
    const { alg, kid, publicJwk } = readSigningJwk(key);
    return { alg, kid, publicJwk };
  }
  const alg = algorithmOf(key);
  if (privateKeyMembers(key).length > 0) throw new SigningKeyProblem('has private members but no "d": give the whole private JWK, or its public members only');
  checkUseAndKid(key);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: publicMembers(key) as JsonWebKey, format: 'jwk' });
  } catch {
    throw new SigningKeyProblem(`is not a valid ${key.kty as string} public key (its members do not import)`);
  }
  checkSize(alg, publicKey);
  const publicJwk = toPublicJwk(publicKey, alg, typeof key.kid === 'string' ? key.kid : undefined);
  return { alg, kid: publicJwk.kid, publicJwk };
}

function jwkObject(raw: unknown): Record<string, unknown> {
  const jwk = typeof raw === 'string' ? parseJson(raw) : raw;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new SigningKeyProblem('must be a JSON Web Key: one JSON object');
  return jwk as Record<string, unknown>;
}

function checkUseAndKid(key: Record<string, unknown>): void {
  if (key.use !== undefined && key.use !== 'sig') throw new SigningKeyProblem('must be a signing key: its "use" is not "sig"');
  if (key.kid !== undefined && (typeof key.kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(key.kid))) {
    throw new SigningKeyProblem('has a "kid" that is not 1-128 visible ASCII characters');
  }
}

function checkSize(alg: SigningAlgorithm, publicKey: KeyObject): void {
  if (alg !== 'PS256' && alg !== 'RS256') return;
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new SigningKeyProblem(`must be an RSA key of at least ${MIN_RSA_BITS} bits (this one has ${bits})`);
}

/** RFC 7517 §4 + RFC 7518 §6: a key's published form, from node:crypto's export (public members only). */
export function toPublicJwk(publicKey: KeyObject, alg: SigningAlgorithm, kid?: string): PublicJwk {
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const members = publicMembers(exported) as Record<string, string>;
  if (privateKeyMembers(members).length > 0) throw new Error('a public key export carried private members');
  return { ...(members as unknown as Omit<PublicJwk, 'kid' | 'alg' | 'use'>), kid: kid ?? jwkThumbprint(members), alg, use: 'sig' };
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const required = jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x'];
  const canonical = JSON.stringify(Object.fromEntries(required.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the text near the error: not repeated.
    throw new SigningKeyProblem('must be a JSON Web Key: it is not JSON');
  }
}

function algorithmOf(key: Record<string, unknown>): SigningAlgorithm {
  const { kty, crv, alg } = key;
  if (kty === 'oct') throw new SigningKeyProblem('must be an asymmetric key: kty "oct" (an HMAC secret) cannot sign for others to verify');
  if (kty !== 'EC' && kty !== 'RSA' && kty !== 'OKP') throw new SigningKeyProblem('must have kty "EC", "RSA" or "OKP"');
  if (alg !== undefined && !(SIGNING_ALGORITHMS as readonly unknown[]).includes(alg)) {
    throw new SigningKeyProblem(`has ${named(alg, KNOWN_ALGS, 'alg')}, which the gateway does not sign with (${SIGNING_ALGORITHMS.join(', ')})`);
  }
  const chosen = (alg as SigningAlgorithm | undefined) ?? (kty === 'RSA' ? 'PS256' : kty === 'EC' ? 'ES256' : 'EdDSA');
  const wanted = KEY_TYPES[chosen];
  if (kty !== wanted.kty || (wanted.crv !== undefined && crv !== wanted.crv)) {
    const has = kty === 'RSA' ? 'kty "RSA"' : `kty "${kty}" with ${named(crv, KNOWN_CURVES, 'crv')}`;
    throw new SigningKeyProblem(`has ${has}, but ${chosen} needs kty "${wanted.kty}"${wanted.crv ? ` with crv "${wanted.crv}"` : ''}`);
  }
  return chosen;
}

function publicMembers(key: Record<string, unknown>): Record<string, unknown> {
  const names = key.kty === 'RSA' ? ['kty', 'n', 'e'] : key.kty === 'EC' ? ['kty', 'crv', 'x', 'y'] : ['kty', 'crv', 'x'];
  return Object.fromEntries(names.filter((name) => key[name] !== undefined).map((name) => [name, key[name]]));
}

/** A signature by the private half verifies under the public members (a pasted pair may not match). */
function halvesMatch(alg: SigningAlgorithm, privateKey: KeyObject, publicKey: KeyObject): boolean {
  const data = Buffer.from('fapi-revocation-gateway signing key check');
  const digest = alg === 'EdDSA' ? null : 'sha256';
  const options = (key: KeyObject) =>
    alg === 'PS256'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : alg === 'ES256'
        ? { key, dsaEncoding: 'ieee-p1363' as const }
        : { key };
  try {
    return verify(digest, data, options(publicKey), sign(digest, data, options(privateKey)));
  } catch {
    return false;
  }
}
