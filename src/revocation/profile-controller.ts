import { Controller, HttpCode, Inject, Post, Req, type Type } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { revocationRow, type RevocationProfile } from '../protocol/profiles';
import { profileSpec, RevocationPipeline, type ProfileSpec } from './revocation-pipeline';

/**
 * The controller of a profile, made from its row (docs/api.md §2): `POST` on the row's route,
 * answered with the row's success status. Everything else the row says, the pipeline does.
 */
export function profileController(profile: RevocationProfile): Type {
  const row = revocationRow(profile);

  @Controller()
  class ProfileController {
    private readonly spec: ProfileSpec;

    constructor(
      private readonly pipeline: RevocationPipeline,
      @Inject(APP_CONFIG) config: AppConfig,
    ) {
      this.spec = profileSpec(profile, config);
    }

    @Post(row.route)
    @HttpCode(row.success.status)
    revoke(@Req() request: FastifyRequest): Promise<unknown> {
      return this.pipeline.revoke(request, this.spec);
    }
  }

  // Nest names controllers in its logs and errors by their class name.
  Object.defineProperty(ProfileController, 'name', { value: `${profile[0].toUpperCase()}${profile.slice(1)}RevocationController` });
  return ProfileController;
}
