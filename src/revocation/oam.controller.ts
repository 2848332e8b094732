import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { FapiHeadersGuard } from '../fapi/fapi-headers.guard';
import { ProtocolError } from '../protocol/protocol-error';
import { PROFILE_ROWS } from '../protocol/profile-contracts';
import { PROFILE_ROUTES } from '../protocol/profiles';
import { authPolicy, RevocationPipeline, type ProfileSpec } from './revocation-pipeline';
import { oamRevocationLevel, oamTokenTypeHint, requiredToken } from './revocation-params';

/**
 * `POST /oauth2/rest/token/revoke`, Oracle Access Manager's wire contract (docs/api.md §2 `oam`):
 * the caller picks the level (`revocation_level`, default NONE), the identity domain selects the
 * tenant, success and unknown tokens are 200 `{"status":"success"}`, another client's token is 400.
 */
@Controller()
export class OamController {
  private readonly spec: ProfileSpec;

  constructor(
    private readonly pipeline: RevocationPipeline,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.spec = {
      profile: 'oam',
      policy: authPolicy(config, PROFILE_ROWS.oam),
      target: (form) => {
        const token = requiredToken(form);
        const hint = oamTokenTypeHint(form);
        const level = oamRevocationLevel(form, config.defaultLevel ?? 'NONE');
        return { kind: 'token', token, hint, levels: { access_token: level, refresh_token: level } };
      },
    };
  }

  @Post(PROFILE_ROUTES.oam)
  @HttpCode(PROFILE_ROWS.oam.success)
  @UseGuards(FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<{ status: 'success' }> {
    const { result } = await this.pipeline.revoke(request, this.spec);
    if (result.outcome === 'foreign') throw ProtocolError.invalidRequest('the token was not issued to this client');
    return { status: 'success' };
  }
}
