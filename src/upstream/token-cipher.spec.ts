import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { TokenCipher } from './token-cipher';

describe('TokenCipher', () => {
  const cipher = new TokenCipher(randomBytes(32));

  it('opens what it sealed, for any token', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ maxLength: 64 }), (token, tenant) => {
        expect(cipher.open(cipher.seal(token, tenant), tenant)).toBe(token);
      }),
    );
  });

  it('never stores the token in clear and never repeats a ciphertext', () => {
    const token = 'a-token-that-must-not-appear';
    const first = cipher.seal(token, 'default');
    const second = cipher.seal(token, 'default');
    expect(first.includes(Buffer.from(token))).toBe(false);
    expect(first.equals(second)).toBe(false);
  });

  it('refuses another key, another tenant, and any altered byte', () => {
    const sealed = cipher.seal('tok', 'default');
    expect(() => new TokenCipher(randomBytes(32)).open(sealed, 'default')).toThrow();
    expect(() => cipher.open(sealed, 'other')).toThrow();
    for (let i = 0; i < sealed.length; i++) {
      const altered = Buffer.from(sealed);
      altered[i] ^= 0x01;
      expect(() => cipher.open(altered, 'default')).toThrow();
    }
    expect(() => cipher.open(Buffer.alloc(5), 'default')).toThrow('not a sealed token');
  });

  it('opens rows sealed under the previous key during a rotation, and seals under the new one', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new TokenCipher(oldKey).seal('tok', 'default');
    const rotating = new TokenCipher(newKey, oldKey);
    expect(rotating.open(before, 'default')).toBe('tok');
    expect(new TokenCipher(newKey).open(rotating.seal('tok', 'default'), 'default')).toBe('tok');
    expect(() => new TokenCipher(newKey).open(before, 'default')).toThrow();
  });

  it('wants a 256-bit key', () => {
    expect(() => new TokenCipher(randomBytes(16))).toThrow('32 bytes');
  });
});
