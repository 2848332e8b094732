import { createHash } from 'node:crypto';

/** Tokens are stored and looked up by SHA-256 only: a database leak reveals no usable token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
