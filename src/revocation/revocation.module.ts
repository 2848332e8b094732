import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { ClientAuthenticator } from '../client-auth/client-authenticator';
import { KeySets } from '../client-auth/key-sets';
import { TrustedProxies } from '../client-auth/mtls';
import { PostgresReplayStore, RedisReplayStore, REPLAY_STORE } from '../client-auth/replay-store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { MetadataController } from '../discovery/metadata.controller';
import { OpenApiController } from '../discovery/openapi.controller';
import type { ProfileName } from '../protocol/profiles';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { UpstreamModule } from '../upstream/upstream.module';
import { RedisWindowStorage } from '../throttling/redis-window-storage';
import { Throttle, THROTTLER_STORAGE } from '../throttling/throttle';
import { CdrController } from './cdr.controller';
import { FapiController } from './fapi.controller';
import { Idv1Controller } from './idv1.controller';
import { OamController } from './oam.controller';
import { RevocationEngine } from './revocation-engine';
import { RevocationPipeline } from './revocation-pipeline';
import { Rfc7009Controller } from './rfc7009.controller';

/** Profile → its controller; a profile switched off by PROFILES has no route at all (404). */
const CONTROLLERS: Record<ProfileName, Type> = {
  rfc7009: Rfc7009Controller,
  fapi: FapiController,
  oam: OamController,
  idv1: Idv1Controller,
  cdr: CdrController,
};

@Module({})
export class RevocationModule {
  static register(config: AppConfig): DynamicModule {
    const profiles = config.profiles;
    return {
      module: RevocationModule,
      imports: [UpstreamModule.register(config)],
      controllers: [MetadataController, OpenApiController, ...[...profiles].map((profile) => CONTROLLERS[profile])],
      providers: [
        ClientAuthenticator,
        RevocationEngine,
        RevocationPipeline,
        TenantDirectory,
        KeySets,
        { provide: TrustedProxies, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TrustedProxies(config.trustedProxies) },
        Throttle,
        {
          provide: THROTTLER_STORAGE,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => (config.redisUrl ? new RedisWindowStorage(config.redisUrl) : new ThrottlerStorageService()),
        },
        {
          provide: REPLAY_STORE,
          inject: [APP_CONFIG, DataSource],
          useFactory: (config: AppConfig, db: DataSource) => (config.redisUrl ? new RedisReplayStore(config.redisUrl) : new PostgresReplayStore(db, config)),
        },
      ],
    };
  }
}
