import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are stored as HMAC-SHA256(salt, secret) with a random 16-byte salt per client.
 * A fast keyed hash rather than a password KDF: client secrets are machine-generated,
 * high-entropy values (not passwords people choose), so brute force is out of reach without a
 * slow hash, and verification stays cheap on the revocation hot path.
 */
export interface HashedSecret {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export function hashSecret(secret: string, salt: Buffer = randomBytes(16)): HashedSecret {
  return { salt, hash: createHmac('sha256', salt).update(secret, 'utf8').digest() };
}

/** Constant time in the secret's content (RFC 6749 §2.3.1 / §10.1 guidance). */
export function verifySecret(secret: string, stored: HashedSecret): boolean {
  const candidate = hashSecret(secret, stored.salt).hash;
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}
