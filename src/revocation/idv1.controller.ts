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
 * `POST /api/id/v1/auth/token/revoke`, the in-house `/api/id/v1` contract (docs/api.md §2 `idv1`):
 * RFC 7009 semantics with camelCase errors, a strict `token_type_hint`, and 400 for another
 * client's token.
 */
@Controller()
export class Idv1Controller {
  private readonly spec: ProfileSpec;

  constructor(
    private readonly pipeline: RevocationPipeline,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.spec = tokenProfile(config, 'idv1', 'strict');
  }

  @Post(PROFILE_ROUTES.idv1)
  @HttpCode(PROFILE_ROWS.idv1.success)
  @UseGuards(FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const { result } = await this.pipeline.revoke(request, this.spec);
    if (result.outcome === 'foreign') throw ProtocolError.invalidRequest('the token was not issued to this client');
  }
}
