import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import { Metrics } from '../metrics/metrics';
import type { FormBody } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { AssertionRejected, assertedClientId, verifyClientAssertion } from './client-assertion';
import { ClientRegistry } from './client-registry';
import { CLIENT_ID, CredentialsUnreadable, presentedCredentials, type AuthMethod, type ClientRole, type PresentedCredentials } from './credentials';
import { KeySets } from './key-sets';
import { ClientCertificates, matchesSelfSigned, matchesTlsClientAuth, type PresentedCertificate } from './mtls';
import { REPLAY_STORE, type ReplayStore } from './replay-store';
import { verifySecret } from './secret-hash';

/** What an endpoint accepts (docs/api.md §5): the role it serves, its methods, its JWS algorithms, its audiences. */
export interface AuthPolicy {
  /** docs/api.md §11.1: revocation endpoints serve TPPs, introspection resource servers. */
  readonly role: ClientRole;
  readonly methods: readonly AuthMethod[];
  readonly algorithms: readonly string[];
  /** ISSUER and the endpoint's own URL. */
  readonly audiences: readonly string[];
}

export interface AuthenticatedClient {
  readonly clientId: string;
  readonly method: AuthMethod;
  /** RFC 6749 §2.1: a public client (`none`) cannot prove who it is. */
  readonly confidential: boolean;
}

/** A reason authentication failed; the caller sees only "client authentication failed". */
class AuthFailure extends Error {}

/**
 * Client authentication (RFC 6749 §2.3, RFC 7523, RFC 7009 §2.1 "first validates the client
 * credentials"). Every failure is the same public 401; the cause goes to the log under a
 * `client_auth_id` that the response also carries, so support can find it without the response
 * revealing it.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly keySets: KeySets,
    @Inject(REPLAY_STORE) private readonly replays: ReplayStore,
    private readonly metrics: Metrics,
    private readonly clients: ClientRegistry,
    private readonly certificates: ClientCertificates,
  ) {}

  /** The client of a request: its Authorization header, its form's credentials and its certificate. */
  async authenticate(request: FastifyRequest, tenant: string, policy: AuthPolicy): Promise<AuthenticatedClient> {
    let presented: PresentedCredentials | undefined;
    try {
      presented = presentedCredentials(request.headers.authorization, (request.body ?? {}) as FormBody);
      return await this.verify(presented, this.certificates.presented(request), tenant, policy);
    } catch (error) {
      if (error instanceof CredentialsUnreadable) {
        this.metrics.clientAuthFailures.inc({ method: 'unreadable' });
        throw unauthorized(error.reason, error.viaAuthorizationHeader);
      }
      if (error instanceof AuthFailure || error instanceof AssertionRejected) {
        this.metrics.clientAuthFailures.inc({ method: presented?.method ?? 'unreadable' });
        throw unauthorized(error.message, presented?.viaAuthorizationHeader ?? false);
      }
      throw error;
    }
  }

  private async verify(
    presented: PresentedCredentials,
    certificate: PresentedCertificate | undefined,
    tenant: string,
    policy: AuthPolicy,
  ): Promise<AuthenticatedClient> {
    // A bare client_id is a public client or, with a certificate, mutual TLS: the registration says which.
    if (presented.method !== 'none' && !policy.methods.includes(presented.method)) {
      throw new AuthFailure(`${presented.method} is not accepted on this endpoint`);
    }
    const clientId = presented.method === 'private_key_jwt' ? assertionClient(presented) : presented.clientId;
    if (!clientId) throw new AuthFailure('no client_id');
    if (!CLIENT_ID.test(clientId)) throw new AuthFailure('client_id is not 1-255 printable ASCII characters');

    const client = await this.clients.find(tenant, clientId);
    // Never the presented value itself: a TPP that swapped id and secret would put its secret here.
    if (!client) throw new AuthFailure(`unknown client (sha256 ${createHash('sha256').update(clientId).digest('hex').slice(0, 12)}) in tenant ${tenant}`);
    const method = presented.method === 'none' && isMutualTls(client.auth_method) ? client.auth_method : presented.method;
    if (!policy.methods.includes(method)) throw new AuthFailure(`${method} is not accepted on this endpoint`);
    // RFC 7591 token_endpoint_auth_method: the registered method is the only one the client may use.
    if (client.auth_method !== method) throw new AuthFailure(`client is registered for ${client.auth_method}, presented ${method}`);
    switch (method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        if (!client.secret_salt || !client.secret_hash) throw new AuthFailure('client has no secret registered');
        if (!verifySecret(presented.secret ?? '', { salt: client.secret_salt, hash: client.secret_hash })) {
          throw new AuthFailure('wrong client secret');
        }
        break;
      case 'private_key_jwt': {
        const keys = this.keySets.forClient({ tenant, clientId, jwks: client.jwks, jwksUri: client.jwks_uri });
        const { jti, usableUntil } = await verifyClientAssertion(presented.assertion!, {
          clientId,
          audiences: policy.audiences,
          algorithms: policy.algorithms,
          keys,
        });
        // RFC 7523 §3 item 7: the server may keep used jti values to refuse replays; we must.
        if (!(await this.replays.firstUse(tenant, clientId, jti, usableUntil))) throw new AuthFailure('client_assertion jti was already used');
        break;
      }
      case 'tls_client_auth':
        // RFC 8705 §2.1: PKI — a certificate chaining to a trust anchor, with the registered subject or SAN.
        if (!certificate) throw new AuthFailure('no client certificate');
        if (!certificate.chainVerified) throw new AuthFailure('client certificate does not chain to a trusted CA');
        if (!matchesTlsClientAuth(certificate.certificate, client)) throw new AuthFailure('client certificate does not match the registered subject');
        break;
      case 'self_signed_tls_client_auth': {
        // RFC 8705 §2.2: no chain; the certificate's key must be one the client registered.
        if (!certificate) throw new AuthFailure('no client certificate');
        const keys = await this.keySets.jwksFor({ tenant, clientId, jwks: client.jwks, jwksUri: client.jwks_uri }).catch((error: Error) => {
          throw new AuthFailure(`client keys unavailable: ${error.message}`);
        });
        if (!(await matchesSelfSigned(certificate.certificate, keys))) throw new AuthFailure('client certificate key is not registered');
        break;
      }
      case 'none':
        break;
    }
    // docs/api.md §11.1: proven, but not a client of this endpoint (a resource server revoking, a TPP introspecting).
    if (client.role !== policy.role) throw new AuthFailure(`client ${clientId} is a ${client.role}, which cannot call this endpoint`);
    return { clientId, method, confidential: method !== 'none' };
  }
}

function isMutualTls(method: AuthMethod): boolean {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
}

/** docs/api.md §5: `iss` = `sub` = client_id; a `client_id` form field, if sent, must name the same client. */
function assertionClient(presented: PresentedCredentials): string {
  const subject = assertedClientId(presented.assertion!);
  if (presented.clientId !== undefined && presented.clientId !== subject) {
    throw new AuthFailure('client_id does not match the client_assertion subject');
  }
  return subject;
}

function unauthorized(cause: string, viaAuthorizationHeader: boolean): ProtocolError {
  return new ProtocolError('invalid_client', 'client authentication failed', {
    detail: cause,
    clientAuthId: randomUUID(),
    headers: viaAuthorizationHeader ? { 'www-authenticate': 'Basic realm="revocation"' } : {},
  });
}
