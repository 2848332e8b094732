import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { FapiHeadersGuard } from '../fapi/fapi-headers.guard';
import { ProtocolError } from '../protocol/protocol-error';
import { PROFILE_ROWS } from '../protocol/profile-contracts';
import { PROFILE_ROUTES } from '../protocol/profiles';
import { RevocationPipeline, tokenProfile, type ProfileSpec } from './revocation-pipeline';

/**
 * `POST /token/revoke`, RFC 7009 §2: 200 with an empty body for a revoked, already revoked or
 * unknown token; 400 for another client's token (a public client gets 200 and nothing happens).
 */
@Controller()
export class Rfc7009Controller {
  private readonly spec: ProfileSpec;

  constructor(
    private readonly pipeline: RevocationPipeline,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.spec = tokenProfile(config, 'rfc7009', 'lenient');
  }

  @Post(PROFILE_ROUTES.rfc7009)
  @HttpCode(PROFILE_ROWS.rfc7009.success)
  @UseGuards(FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const { client, result } = await this.pipeline.revoke(request, this.spec);
    // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    // revocation request. If this validation fails, the request is refused". A public client
    // cannot prove its identity, so it learns nothing (docs/api.md §2): 200, nothing revoked.
    if (result.outcome === 'foreign' && client.confidential) {
      throw ProtocolError.invalidRequest('the token was not issued to this client');
    }
  }
}
