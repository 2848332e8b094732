import { Body, Controller, Delete, HttpCode, Inject, Param, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientRegistry } from '../client-auth/client-registry';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ProtocolError } from '../protocol/protocol-error';
import { TenantRegistry } from '../tenancy/tenant-registry';
import { TokenStatusCache } from '../tokens/token-status-cache';
import { TENANT_NAME } from '../tenancy/tenant-name';
import { checkClientId, clientRegistration } from './client-metadata';
import { PutClientBody, PutTenantBody, TenantScoped } from './dto';

/** docs/api.md §9: tenants and clients, replaced whole by PUT. Secrets are stored hashed, never returned. */
@Controller('admin')
export class ClientsController {
  constructor(
    private readonly tenants: TenantRegistry,
    private readonly clients: ClientRegistry,
    private readonly tokenStatus: TokenStatusCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Put('tenants/:tenant')
  async putTenant(@Param('tenant') tenant: string, @Body() body: PutTenantBody, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!TENANT_NAME.test(tenant)) throw ProtocolError.invalidRequest('tenant must match [A-Za-z0-9._-]{1,64}');
    // docs/api.md §11.3: the `default` tenant's JWT access tokens are those of ACCESS_TOKEN_ISSUER;
    // another tenant with that issuer would know the same tokens, and a revocation in one would
    // leave them standing in the other.
    const defaultJwtIssuer = this.config.accessTokens.jwksUri ? (this.config.accessTokens.issuer ?? this.config.issuer) : undefined;
    if (tenant !== 'default' && body.issuer !== undefined && body.issuer === defaultJwtIssuer) {
      throw ProtocolError.invalidRequest("issuer is the default tenant's access-token issuer (ACCESS_TOKEN_ISSUER)");
    }
    const settings = { issuer: body.issuer ?? null, accessTokenJwksUri: body.access_token_jwks_uri ?? null };
    reply.status((await this.tenants.put(tenant, settings)) ? 201 : 200);
    // The tenant's issuer is the `iss` of its introspection answers, and with its access-token
    // keys it decides which JWTs it knows: what this process holds goes.
    // (Other replicas keep the old issuer for at most TOKEN_STATUS_CACHE_TTL_MS: docs/api.md §11.6.)
    this.tokenStatus.forgetTenant(tenant);
    return { tenant, issuer: settings.issuer, access_token_jwks_uri: settings.accessTokenJwksUri };
  }

  @Put('clients/:client_id')
  async putClient(@Param('client_id') clientId: string, @Body() body: PutClientBody, @Res({ passthrough: true }) reply: FastifyReply) {
    checkClientId(clientId);
    const { created, role } = await this.clients.put(body.tenant, clientId, clientRegistration(body));
    reply.status(created ? 201 : 200);
    const { secret: _secret, ...visible } = body;
    return { ...visible, role, client_id: clientId };
  }

  /** The client can no longer authenticate; its tokens stay as they are (revoke them in bulk). */
  @Delete('clients/:client_id')
  @HttpCode(204)
  async deleteClient(@Param('client_id') clientId: string, @Query() query: TenantScoped): Promise<void> {
    checkClientId(clientId);
    await this.clients.delete(query.tenant, clientId);
  }
}
