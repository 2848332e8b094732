import { single, type FormBody } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** docs/api.md §11.1: a TPP revokes; a resource server may only introspect. */
export const CLIENT_ROLES = ['tpp', 'resource_server'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** RFC 6749 Appendix A.1: client-id = *VSCHAR (printable ASCII); we also bound its length. */
export const CLIENT_ID = /^[\x20-\x7e]{1,255}$/;

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What the request claims, before anything is checked against the registry. */
export interface PresentedCredentials {
  readonly method: AuthMethod;
  /** Absent only for private_key_jwt without a client_id field (the assertion names the client); may be '' there. */
  readonly clientId?: string;
  readonly secret?: string;
  readonly assertion?: string;
  /** The client tried HTTP Basic: a 401 must carry a Basic challenge (RFC 6749 §5.2). */
  readonly viaAuthorizationHeader: boolean;
}

/** A reason the credentials cannot even be read; becomes 401 `invalid_client`, cause logged. */
export class CredentialsUnreadable extends Error {
  constructor(
    readonly reason: string,
    readonly viaAuthorizationHeader: boolean,
  ) {
    super(reason);
  }
}

/**
 * Reads the client credentials of a request (RFC 6749 §2.3, RFC 7523 §2.2). Exactly one method
 * may be used: RFC 6749 §2.3 "MUST NOT use more than one authentication method in each request".
 */
export function presentedCredentials(authorization: string | undefined, form: FormBody): PresentedCredentials {
  const formClientId = single(form, 'client_id');
  const secret = single(form, 'client_secret');
  const assertion = single(form, 'client_assertion');
  const assertionType = single(form, 'client_assertion_type');
  const viaHeader = authorization !== undefined;

  const used = [viaHeader, secret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean);
  if (used.length > 1) throw ProtocolError.invalidRequest('more than one client authentication method was used');

  if (viaHeader) {
    const basic = parseBasicAuthorization(authorization);
    if (formClientId !== undefined && formClientId !== basic.clientId) {
      throw ProtocolError.invalidRequest('client_id does not match the Authorization header');
    }
    return { method: 'client_secret_basic', clientId: basic.clientId, secret: basic.secret, viaAuthorizationHeader: true };
  }
  if (secret !== undefined) {
    if (!formClientId) throw new CredentialsUnreadable('client_secret without client_id', false);
    return { method: 'client_secret_post', clientId: formClientId, secret, viaAuthorizationHeader: false };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) throw new CredentialsUnreadable('unsupported client_assertion_type', false);
    if (!assertion) throw new CredentialsUnreadable('client_assertion is missing', false);
    return { method: 'private_key_jwt', clientId: formClientId, assertion, viaAuthorizationHeader: false };
  }
  if (formClientId) return { method: 'none', clientId: formClientId, viaAuthorizationHeader: false };
  throw new CredentialsUnreadable('no client credentials in the request', false);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * RFC 7617 Basic with RFC 6749 §2.3.1's twist: client id and secret are each
 * application/x-www-form-urlencoded before being joined with ":" and base64-encoded.
 */
export function parseBasicAuthorization(header: string): { clientId: string; secret: string } {
  const match = /^Basic +(\S+) *$/i.exec(header);
  if (!match || !BASE64.test(match[1])) throw new CredentialsUnreadable('malformed Authorization header', true);
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new CredentialsUnreadable('Basic credentials without ":"', true);
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined) throw new CredentialsUnreadable('Basic credentials are not form-encoded', true);
  if (clientId === '') throw new CredentialsUnreadable('empty client_id in Basic credentials', true);
  return { clientId, secret };
}

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
