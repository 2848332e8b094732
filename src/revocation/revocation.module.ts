import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ClientAuthenticator } from '../client-auth/client-authenticator';
import type { ProfileName } from '../protocol/profiles';
import { RevocationEngine } from './revocation-engine';
import { Rfc7009Controller } from './rfc7009.controller';

/** Profile → its controller; a profile switched off by PROFILES has no route at all (404). */
const CONTROLLERS: Partial<Record<ProfileName, Type>> = {
  rfc7009: Rfc7009Controller,
};

@Module({})
export class RevocationModule {
  static forProfiles(profiles: ReadonlySet<ProfileName>): DynamicModule {
    return {
      module: RevocationModule,
      controllers: [...profiles].flatMap((profile) => CONTROLLERS[profile] ?? []),
      providers: [ClientAuthenticator, RevocationEngine],
    };
  }

  /** The routes that exist for these profiles, for 405 answers. */
  static routes(profiles: ReadonlySet<ProfileName>): ProfileName[] {
    return [...profiles].filter((profile) => CONTROLLERS[profile] !== undefined);
  }
}
