import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { FapiHeadersGuard } from '../fapi/fapi-headers.guard';
import { ProtocolError } from '../protocol/protocol-error';
import { PROFILE_ROWS } from '../protocol/profile-contracts';
import { PROFILE_ROUTES } from '../protocol/profiles';
import { authPolicy, RevocationPipeline, type ProfileSpec } from './revocation-pipeline';
import { requiredArrangementId } from './revocation-params';

/**
 * `POST /arrangements/revoke`, the Australian CDR arrangement revocation (docs/api.md §2 `cdr`): the
 * data recipient withdraws a whole arrangement (our consent) and every token under it. 204; an
 * unknown or foreign arrangement is 422; private_key_jwt only.
 */
@Controller()
export class CdrController {
  private readonly spec: ProfileSpec;

  constructor(
    private readonly pipeline: RevocationPipeline,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.spec = {
      profile: 'cdr',
      policy: authPolicy(config, PROFILE_ROWS.cdr),
      target: (form) => ({ kind: 'consent', consentId: requiredArrangementId(form) }),
    };
  }

  @Post(PROFILE_ROUTES.cdr)
  @HttpCode(PROFILE_ROWS.cdr.success)
  @UseGuards(FapiHeadersGuard)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    const { result } = await this.pipeline.revoke(request, this.spec);
    if (result.outcome !== 'revoked') {
      throw new ProtocolError('invalid_arrangement', 'the arrangement is not known for this client');
    }
  }
}
