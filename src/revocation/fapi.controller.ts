import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { AcceptJsonGuard } from '../fapi/accept-json.guard';
import { FapiHeadersGuard } from '../fapi/fapi-headers.guard';
import { ProtocolError } from '../protocol/protocol-error';
import { PROFILE_ROWS } from '../protocol/profile-contracts';
import { PROFILE_ROUTES } from '../protocol/profiles';
import { RevocationPipeline, tokenProfile, type ProfileSpec } from './revocation-pipeline';

/**
 * `POST /token/revocation`, the FAPI profile (docs/api.md §2): 204 when revoked, 404 for a token that
 * is unknown or not the caller's, `{"errors":[...]}` bodies. FAPI 1.0 Advanced §5.2.2-14: only
 * private_key_jwt and mutual-TLS client authentication.
 */
@Controller()
export class FapiController {
  private readonly spec: ProfileSpec;

  constructor(
    private readonly pipeline: RevocationPipeline,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.spec = tokenProfile(config, 'fapi', 'strict');
  }

  @Post(PROFILE_ROUTES.fapi)
  @HttpCode(PROFILE_ROWS.fapi.success)
  @UseGuards(AcceptJsonGuard, FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const { result } = await this.pipeline.revoke(request, this.spec);
    if (result.outcome !== 'revoked') throw ProtocolError.notFound('token not found');
  }
}
