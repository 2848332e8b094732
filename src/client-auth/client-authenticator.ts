import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { FormBody } from '../protocol/form';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';
import { CLIENT_ID, CredentialsUnreadable, presentedCredentials, type AuthMethod, type PresentedCredentials } from './credentials';
import { verifySecret } from './secret-hash';

export interface AuthenticatedClient {
  readonly clientId: string;
  readonly method: AuthMethod;
  /** RFC 6749 §2.1: a public client (`none`) cannot prove who it is. */
  readonly confidential: boolean;
}

interface ClientRow {
  auth_method: AuthMethod;
  secret_salt: Buffer | null;
  secret_hash: Buffer | null;
}

/**
 * Client authentication (RFC 6749 §2.3, RFC 7009 §2.1 "first validates the client credentials").
 * Every failure is the same public 401; the cause goes to the log under a `client_auth_id` that the
 * response also carries, so support can find it without the response revealing it.
 */
@Injectable()
export class ClientAuthenticator {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async authenticate(
    headers: { authorization?: string },
    form: FormBody,
    tenant: string,
    accepted: readonly AuthMethod[],
  ): Promise<AuthenticatedClient> {
    let presented: PresentedCredentials;
    try {
      presented = presentedCredentials(headers.authorization, form);
    } catch (error) {
      if (error instanceof CredentialsUnreadable) throw unauthorized(error.reason, error.viaAuthorizationHeader);
      throw error;
    }
    const fail = (cause: string) => unauthorized(cause, presented.viaAuthorizationHeader);

    if (!accepted.includes(presented.method)) throw fail(`${presented.method} is not accepted on this endpoint`);
    if (!presented.clientId) throw fail('no client_id');
    if (!CLIENT_ID.test(presented.clientId)) throw fail('client_id is not 1-255 printable ASCII characters');

    const [client] = await this.statements.run<ClientRow>(
      'revgw_client',
      'SELECT auth_method, secret_salt, secret_hash FROM clients WHERE tenant = $1 AND client_id = $2',
      [tenant, presented.clientId],
    );
    if (!client) throw fail(`unknown client ${JSON.stringify(presented.clientId)} in tenant ${tenant}`);
    // RFC 7591 token_endpoint_auth_method: the registered method is the only one the client may use.
    if (client.auth_method !== presented.method) {
      throw fail(`client is registered for ${client.auth_method}, presented ${presented.method}`);
    }
    switch (presented.method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        if (!client.secret_salt || !client.secret_hash) throw fail('client has no secret registered');
        if (!verifySecret(presented.secret ?? '', { salt: client.secret_salt, hash: client.secret_hash })) {
          throw fail('wrong client secret');
        }
        break;
      case 'none':
        break;
      default:
        throw fail(`${presented.method} is not supported yet`);
    }
    return { clientId: presented.clientId, method: presented.method, confidential: presented.method !== 'none' };
  }
}

function unauthorized(cause: string, viaAuthorizationHeader: boolean): ProtocolError {
  return new ProtocolError(401, 'invalid_client', 'client authentication failed', {
    detail: cause,
    clientAuthId: randomUUID(),
    headers: viaAuthorizationHeader ? { 'www-authenticate': 'Basic realm="revocation"' } : {},
  });
}
