import { NEVER_EXPIRES, type RegisteredToken } from '../tokens/token-lookup';

/**
 * A header value as the check sends it (docs/api.md §11.5): printable ASCII and inner spaces as
 * they are; every other octet of its UTF-8, `%` itself, and a space at either end (which HTTP
 * parsers strip) percent-encoded. A registered value holding a line break or non-ASCII text can
 * neither split the header nor be refused by Node, and `decodeURIComponent` always gives the
 * value back.
 */
export function headerValue(value: string): string {
  if (/^([\x21-\x24\x26-\x7e]([\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/.test(value)) return value;
  // A lone surrogate has no UTF-8 (encodeURIComponent would throw): it becomes U+FFFD.
  const encoded = wellFormed(value).replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) => encodeURIComponent(run));
  return encoded.replace(/^ +| +$/g, (spaces) => '%20'.repeat(spaces.length));
}

/** The `x-credential-*` headers of an allowed request: each attribute the gateway knows. */
export function credentialHeaders(token: RegisteredToken): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token.clientId !== '') headers['x-credential-client-id'] = headerValue(token.clientId);
  if (token.expiresAt.getTime() !== NEVER_EXPIRES.getTime()) headers['x-credential-exp'] = String(Math.floor(token.expiresAt.getTime() / 1000));
  if (token.subject !== null) headers['x-credential-sub'] = headerValue(token.subject);
  if (token.scope !== null) headers['x-credential-scope'] = headerValue(token.scope);
  if (token.consentId !== null) headers['x-credential-consent-id'] = headerValue(token.consentId);
  // RFC 9449 §7: the resource server checks the DPoP proof against this key thumbprint.
  if (token.cnf?.jkt !== undefined) headers['x-credential-cnf-jkt'] = token.cnf.jkt;
  return headers;
}

/** String.prototype.toWellFormed (ES2024): each lone surrogate becomes U+FFFD. */
export function wellFormed(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
