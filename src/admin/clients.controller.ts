import { Body, Controller, Delete, HttpCode, Inject, Param, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource, type EntityManager } from 'typeorm';
import type { ClientRow } from '../client-auth/client-authenticator';
import { ClientCache } from '../client-auth/client-cache';
import { JWKS_MAX_BYTES, privateKeyMaterial } from '../client-auth/key-sets';
import { hashSecret } from '../client-auth/secret-hash';
import { ProtocolError } from '../protocol/protocol-error';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { isIP } from 'node:net';
import { CLIENT_ID } from '../client-auth/credentials';
import { parseRfc4514 } from '../client-auth/distinguished-name';
import { TENANT_NAME } from '../tenancy/tenant-name';
import { PutClientBody, PutTenantBody, TenantScoped } from './dto';

const UNIQUE_VIOLATION = '23505';

/** docs/api.md §9: tenants and clients, replaced whole by PUT. Secrets are stored hashed, never returned. */
@Controller('admin')
export class ClientsController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    private readonly clients: ClientCache<ClientRow>,
  ) {}

  @Put('tenants/:tenant')
  async putTenant(@Param('tenant') tenant: string, @Body() body: PutTenantBody, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!TENANT_NAME.test(tenant)) throw ProtocolError.invalidRequest('tenant must match [A-Za-z0-9._-]{1,64}');
    try {
      const [row] = (await this.db.query(
        `INSERT INTO tenants (name, issuer) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET issuer = EXCLUDED.issuer, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [tenant, body.issuer ?? null],
      )) as Array<{ created: boolean }>;
      reply.status(row.created ? 201 : 200);
      return { tenant, issuer: body.issuer ?? null };
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw ProtocolError.invalidRequest('issuer is already used by another tenant');
      }
      throw error;
    }
  }

  @Put('clients/:client_id')
  async putClient(@Param('client_id') clientId: string, @Body() body: PutClientBody, @Res({ passthrough: true }) reply: FastifyReply) {
    checkClientId(clientId);
    checkCredentialMetadata(body);
    const hashed = body.secret !== undefined ? hashSecret(body.secret) : undefined;
    const created = await this.db.transaction(async (tx: EntityManager) => {
      // A client PUT into a tenant that does not exist yet creates it (docs/api.md §9).
      await tx.query('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING', [body.tenant]);
      const [row] = (await tx.query(
        `INSERT INTO clients (tenant, client_id, name, auth_method, secret_salt, secret_hash, jwks, jwks_uri,
                              tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri,
                              tls_client_auth_san_ip, tls_client_auth_san_email)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (tenant, client_id) DO UPDATE SET
           name = EXCLUDED.name, auth_method = EXCLUDED.auth_method, secret_salt = EXCLUDED.secret_salt,
           secret_hash = EXCLUDED.secret_hash, jwks = EXCLUDED.jwks, jwks_uri = EXCLUDED.jwks_uri,
           tls_client_auth_subject_dn = EXCLUDED.tls_client_auth_subject_dn,
           tls_client_auth_san_dns = EXCLUDED.tls_client_auth_san_dns,
           tls_client_auth_san_uri = EXCLUDED.tls_client_auth_san_uri,
           tls_client_auth_san_ip = EXCLUDED.tls_client_auth_san_ip,
           tls_client_auth_san_email = EXCLUDED.tls_client_auth_san_email,
           updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [
          body.tenant,
          clientId,
          body.name ?? null,
          body.auth_method,
          hashed?.salt ?? null,
          hashed?.hash ?? null,
          body.jwks ? JSON.stringify(body.jwks) : null,
          body.jwks_uri ?? null,
          body.tls_client_auth_subject_dn ?? null,
          body.tls_client_auth_san_dns ?? null,
          body.tls_client_auth_san_uri ?? null,
          body.tls_client_auth_san_ip ?? null,
          body.tls_client_auth_san_email ?? null,
        ],
      )) as Array<{ created: boolean }>;
      return row.created;
    });
    // Committed: this replica authenticates with the new registration from the next request on.
    this.clients.invalidate(body.tenant, clientId);
    reply.status(created ? 201 : 200);
    const { secret: _secret, ...visible } = body;
    return { ...visible, client_id: clientId };
  }

  /** The client can no longer authenticate; its tokens stay as they are (revoke them in bulk). */
  @Delete('clients/:client_id')
  @HttpCode(204)
  async deleteClient(@Param('client_id') clientId: string, @Query() query: TenantScoped): Promise<void> {
    checkClientId(clientId);
    await this.db.query('DELETE FROM clients WHERE tenant = $1 AND client_id = $2', [query.tenant, clientId]);
    this.clients.invalidate(query.tenant, clientId);
  }
}

function checkClientId(clientId: string): void {
  if (!CLIENT_ID.test(clientId)) throw ProtocolError.invalidRequest('client_id must be 1-255 printable ASCII characters');
}

/** The metadata each method needs (RFC 7591 §2, RFC 8705 §2.1.2 and §2.2.2), and nothing it cannot use. */
function checkCredentialMetadata(body: PutClientBody): void {
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
