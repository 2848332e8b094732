import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator } from '../client-auth/client-authenticator';
import type { AuthMethod } from '../client-auth/credentials';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { FapiHeadersGuard } from '../fapi/fapi-headers.guard';
import type { FormBody } from '../protocol/form';
import { ProtocolError } from '../protocol/protocol-error';
import { PROFILE_ROUTES } from '../protocol/profiles';
import { requestContext } from '../protocol/request-context';
import { defaultLevels, type LevelByType } from './levels';
import { RevocationEngine } from './revocation-engine';
import { rejectRepeatedParameters, requiredToken, tokenTypeHint } from './revocation-params';
import { hashToken } from './token-hash';

/** Methods the plain RFC 7009 endpoint accepts (CONTRACT §5; the FAPI-only methods arrive with their issue). */
const ACCEPTED_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

/**
 * `POST /token/revoke`, RFC 7009 §2: 200 with an empty body for a revoked, already revoked or
 * unknown token; 400 for another client's token (a public client gets 200 and nothing happens).
 */
@Controller()
export class Rfc7009Controller {
  private readonly levels: LevelByType;

  constructor(
    private readonly clientAuth: ClientAuthenticator,
    private readonly engine: RevocationEngine,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.levels = defaultLevels(config.defaultLevel);
  }

  @Post(PROFILE_ROUTES.rfc7009)
  @HttpCode(200)
  @UseGuards(FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const form = (request.body ?? {}) as FormBody;
    const context = requestContext(request.raw)!;
    context.tenant = 'default';
    rejectRepeatedParameters(form);
    const client = await this.clientAuth.authenticate(request.headers, form, context.tenant, ACCEPTED_METHODS);
    context.clientId = client.clientId;
    const token = requiredToken(form);
    tokenTypeHint(form, 'lenient');

    const result = await this.engine.revoke({
      tenant: context.tenant,
      tokenHash: hashToken(token),
      clientId: client.clientId,
      levels: this.levels,
      interactionId: context.interactionId,
      profile: 'rfc7009',
      psuIp: context.psuIp,
    });
    // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    // revocation request. If this validation fails, the request is refused". A public client
    // cannot prove its identity, so it learns nothing (CONTRACT §2): 200, nothing revoked.
    if (result.outcome === 'foreign' && client.confidential) {
      throw ProtocolError.invalidRequest('the token was not issued to this client');
    }
  }
}
