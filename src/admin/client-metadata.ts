import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { isIP } from 'node:net';
import type { ClientRegistration } from '../client-auth/client-registry';
import { CLIENT_ID } from '../client-auth/credentials';
import { parseRfc4514 } from '../client-auth/distinguished-name';
import { JWKS_MAX_BYTES, privateKeyMaterial } from '../client-auth/key-sets';
import { hashSecret } from '../client-auth/secret-hash';
import { ProtocolError } from '../protocol/protocol-error';
import type { PutClientBody } from './dto';

/**
 * docs/api.md §9 `PUT /admin/clients/{client_id}`: the registration a body describes, once it is
 * one a client can authenticate with; the secret hashed (secret-hash.ts), never stored as sent.
 */
export function clientRegistration(body: PutClientBody): ClientRegistration {
  checkCredentialMetadata(body);
  const hashed = body.secret !== undefined ? hashSecret(body.secret) : undefined;
  return {
    name: body.name ?? null,
    auth_method: body.auth_method,
    role: body.role,
    secret_salt: hashed?.salt ?? null,
    secret_hash: hashed?.hash ?? null,
    jwks: (body.jwks as JSONWebKeySet | undefined) ?? null,
    jwks_uri: body.jwks_uri ?? null,
    tls_client_auth_subject_dn: body.tls_client_auth_subject_dn ?? null,
    tls_client_auth_san_dns: body.tls_client_auth_san_dns ?? null,
    tls_client_auth_san_uri: body.tls_client_auth_san_uri ?? null,
    tls_client_auth_san_ip: body.tls_client_auth_san_ip ?? null,
    tls_client_auth_san_email: body.tls_client_auth_san_email ?? null,
  };
}

export function checkClientId(clientId: string): void {
  if (!CLIENT_ID.test(clientId)) throw ProtocolError.invalidRequest('client_id must be 1-255 printable ASCII characters');
}

/** The metadata each method needs (RFC 7591 §2, RFC 8705 §2.1.2 and §2.2.2), and nothing it cannot use. */
function checkCredentialMetadata(body: PutClientBody): void {
  // docs/api.md §11.1: a resource server authenticates with any method but `none`.
  if (body.role === 'resource_server' && body.auth_method === 'none')
    throw ProtocolError.invalidRequest('a resource_server cannot be a public client (auth_method none)');
  const usesSecret = body.auth_method === 'client_secret_basic' || body.auth_method === 'client_secret_post';
  if (usesSecret && body.secret === undefined) throw ProtocolError.invalidRequest(`secret is required for ${body.auth_method}`);
  if (!usesSecret && body.secret !== undefined) throw ProtocolError.invalidRequest(`secret is not used by ${body.auth_method}`);

  const usesKeys = body.auth_method === 'private_key_jwt' || body.auth_method === 'self_signed_tls_client_auth';
  // The bound a jwks_uri answer has (JWKS_MAX_BYTES), checked before jose loads the set.
  if (body.jwks !== undefined && Buffer.byteLength(JSON.stringify(body.jwks)) > JWKS_MAX_BYTES) {
    throw ProtocolError.invalidRequest(`jwks must be at most ${JWKS_MAX_BYTES / 1024} KiB`);
  }
  if (body.jwks !== undefined && !isJwkSet(body.jwks)) throw ProtocolError.invalidRequest('jwks must be a JWK Set ({"keys": [...]})');
  // RFC 7591 §2: `jwks` holds the client's public keys. Private or symmetric key material
  // anywhere in it (a key, a member of a key, another member of the set) is refused before
  // anything is stored or echoed, and the answer names the members, never their values.
  const [leak] = body.jwks === undefined ? [] : privateKeyMaterial(body.jwks, 'jwks');
  if (leak) throw ProtocolError.invalidRequest(`${leak.path} is not a public key (it has ${leak.members.join(', ')})`);
  if (usesKeys && (body.jwks === undefined) === (body.jwks_uri === undefined)) {
    throw ProtocolError.invalidRequest(`${body.auth_method} needs exactly one of jwks or jwks_uri`);
  }
  if (body.auth_method === 'tls_client_auth') {
    const matchers = [
      body.tls_client_auth_subject_dn,
      body.tls_client_auth_san_dns,
      body.tls_client_auth_san_uri,
      body.tls_client_auth_san_ip,
      body.tls_client_auth_san_email,
    ].filter((value) => value !== undefined);
    // RFC 8705 §2.1.2: exactly one of these metadata values is used.
    if (matchers.length !== 1) {
      throw ProtocolError.invalidRequest('tls_client_auth needs exactly one tls_client_auth_subject_dn or tls_client_auth_san_* value');
    }
    if (body.tls_client_auth_subject_dn !== undefined && !parseRfc4514(body.tls_client_auth_subject_dn)) {
      throw ProtocolError.invalidRequest('tls_client_auth_subject_dn must be an RFC 4514 distinguished name');
    }
    if (body.tls_client_auth_san_ip !== undefined && isIP(body.tls_client_auth_san_ip) === 0) {
      throw ProtocolError.invalidRequest('tls_client_auth_san_ip must be an IPv4 or IPv6 address');
    }
    if (body.tls_client_auth_san_email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(body.tls_client_auth_san_email)) {
      throw ProtocolError.invalidRequest('tls_client_auth_san_email must be an e-mail address');
    }
    if (body.tls_client_auth_san_uri !== undefined && !URL.canParse(body.tls_client_auth_san_uri)) {
      throw ProtocolError.invalidRequest('tls_client_auth_san_uri must be an absolute URI');
    }
  }
}

/** What jose will accept as a JWK Set: every key an object with a `kty`. */
function isJwkSet(jwks: unknown): boolean {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return false;
  try {
    createLocalJWKSet(jwks as JSONWebKeySet);
  } catch {
    return false;
  }
  return (jwks as { keys: unknown[] }).keys.every((key) => typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string');
}
