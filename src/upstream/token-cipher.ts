import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/**
 * Seals a token for the outbox (docs/api.md §6) with AES-256-GCM: a fresh 96-bit IV per token
 * (NIST SP 800-38D §8.2.2), the 128-bit tag, and the tenant as additional data so that a row
 * copied into another tenant does not decrypt. Layout: version ‖ IV ‖ tag ‖ ciphertext.
 */
export class TokenCipher {
  private readonly keys: KeyObject[];

  /** Seals under `key`; opens with `key`, then with `previous` (a rotation in progress). */
  constructor(key: Buffer, previous?: Buffer) {
    this.keys = [key, ...(previous ? [previous] : [])].map((k) => {
      if (k.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes');
      return createSecretKey(k);
    });
  }

  seal(token: string, tenant: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(tenant, 'utf8'));
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the data was not sealed under one of the keys for this tenant, or was altered. */
  open(sealed: Buffer, tenant: string): string {
    if (sealed.length < HEADER_BYTES || sealed[0] !== VERSION) throw new Error('not a sealed token');
    for (const [i, key] of this.keys.entries()) {
      try {
        return openWith(key, sealed, tenant);
      } catch (error) {
        if (i === this.keys.length - 1) throw error;
      }
    }
    throw new Error('no key');
  }
}

function openWith(key: KeyObject, sealed: Buffer, tenant: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(tenant, 'utf8'));
  decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, HEADER_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]).toString('utf8');
}
