import { Inject, Injectable } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { DataSource } from 'typeorm';
import { sqlState } from '../database/db-errors';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';
import { ClientCache } from './client-cache';
import type { AuthMethod, ClientRole } from './credentials';
import type { TlsClientMetadata } from './mtls';

/** What client authentication reads of a registration. */
export interface ClientRow extends TlsClientMetadata {
  auth_method: AuthMethod;
  role: ClientRole;
  secret_salt: Buffer | null;
  secret_hash: Buffer | null;
  jwks: JSONWebKeySet | null;
  jwks_uri: string | null;
}

/**
 * A whole registration, as PUT replaces it (docs/api.md §9); the secret already hashed. `role`
 * undefined keeps the stored one (a new client is a TPP): leaving it out of a routine PUT, a
 * secret rotation, must not change what the client may do.
 */
export interface ClientRegistration extends Omit<ClientRow, 'role'> {
  readonly name: string | null;
  readonly role: ClientRole | undefined;
}

const FIND_SQL = `
SELECT auth_method, role, secret_salt, secret_hash, jwks, jwks_uri, tls_client_auth_subject_dn, tls_client_auth_san_dns,
       tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email
  FROM clients WHERE tenant = $1 AND client_id = $2`;

const PUT_SQL = `
INSERT INTO clients (tenant, client_id, name, auth_method, secret_salt, secret_hash, jwks, jwks_uri,
                     tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri,
                     tls_client_auth_san_ip, tls_client_auth_san_email, role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, COALESCE($14::text, 'tpp'))
ON CONFLICT (tenant, client_id) DO UPDATE SET
  name = EXCLUDED.name, auth_method = EXCLUDED.auth_method, secret_salt = EXCLUDED.secret_salt,
  secret_hash = EXCLUDED.secret_hash, jwks = EXCLUDED.jwks, jwks_uri = EXCLUDED.jwks_uri,
  tls_client_auth_subject_dn = EXCLUDED.tls_client_auth_subject_dn,
  tls_client_auth_san_dns = EXCLUDED.tls_client_auth_san_dns,
  tls_client_auth_san_uri = EXCLUDED.tls_client_auth_san_uri,
  tls_client_auth_san_ip = EXCLUDED.tls_client_auth_san_ip,
  tls_client_auth_san_email = EXCLUDED.tls_client_auth_san_email,
  role = COALESCE($14::text, clients.role),
  updated_at = now()
RETURNING (xmax = 0) AS created, role`;

const CHECK_VIOLATION = '23514';

/**
 * The client registrations of every tenant, for client authentication and the admin API alike.
 * Reads go through the process's ClientCache (client-cache.ts); a change made here invalidates
 * this process's entry once it has committed, so the next request here authenticates with it.
 */
@Injectable()
export class ClientRegistry {
  private readonly statements: PreparedStatements;

  constructor(
    @Inject(DataSource) db: DataSource,
    private readonly cache: ClientCache<ClientRow>,
  ) {
    this.statements = new PreparedStatements(db);
  }

  /** RFC 7009 §2.1 "first validates the client credentials": the registration they are checked against. */
  find(tenant: string, clientId: string): Promise<ClientRow | undefined> {
    return this.cache.get(tenant, clientId, async () => (await this.statements.run<ClientRow>('revgw_client', FIND_SQL, [tenant, clientId]))[0]);
  }

  /** Stores the registration whole: created or replaced, and the role it has now. A tenant that does not exist yet is created (docs/api.md §9). */
  async put(tenant: string, clientId: string, client: ClientRegistration): Promise<{ created: boolean; role: ClientRole }> {
    const stored = await this.statements
      .transaction(async (run) => {
        await run('revgw_client_tenant', 'INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
        const [row] = await run<{ created: boolean; role: ClientRole }>('revgw_client_put', PUT_SQL, [
          tenant,
          clientId,
          client.name,
          client.auth_method,
          client.secret_salt,
          client.secret_hash,
          client.jwks ? JSON.stringify(client.jwks) : null,
          client.jwks_uri,
          client.tls_client_auth_subject_dn,
          client.tls_client_auth_san_dns,
          client.tls_client_auth_san_uri,
          client.tls_client_auth_san_ip,
          client.tls_client_auth_san_email,
          client.role ?? null,
        ]);
        return row;
      })
      .catch((error: unknown) => {
        // docs/api.md §11.1: the stored role was resource_server, and the new auth_method is none.
        if (sqlState(error) === CHECK_VIOLATION) throw ProtocolError.invalidRequest('a resource_server cannot be a public client (auth_method none)');
        throw error;
      });
    this.cache.invalidate(tenant, clientId);
    return stored;
  }

  /** The client can no longer authenticate; its tokens stay as they are. */
  async delete(tenant: string, clientId: string): Promise<void> {
    await this.statements.run('revgw_client_delete', 'DELETE FROM clients WHERE tenant = $1 AND client_id = $2', [tenant, clientId]);
    this.cache.invalidate(tenant, clientId);
  }
}
