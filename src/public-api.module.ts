import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { ClientAuthenticator } from './client-auth/client-authenticator';
import { ClientRegistry } from './client-auth/client-registry';
import { CERTIFICATE_PROVIDERS } from './client-auth/certificate-providers';
import { PostgresReplayStore, RedisReplayStore, REPLAY_STORE } from './client-auth/replay-store';
import type { AppConfig } from './config/config';
import { APP_CONFIG } from './core.module';
import { MetadataController } from './discovery/metadata.controller';
import { SsfConfigurationController } from './events/ssf-configuration.controller';
import { EventsModule } from './events/events.module';
import { OpenApiController } from './discovery/openapi.controller';
import { IntrospectionController } from './introspection/introspection.controller';
import { IntrospectionPipeline } from './introspection/introspection-pipeline';
import { CallerSteps } from './protocol/caller-steps';
import type { ProfileName } from './protocol/profiles';
import { REDIS } from './redis/redis';
import { JwksController } from './signing/jwks.controller';
import { RulePruner } from './access-tokens/revocation-rules';
import { TOKEN_STANDING_PROVIDERS } from './tokens/token-standing';
import { TenantDirectory } from './tenancy/tenant-directory';
import { TenantRegistry } from './tenancy/tenant-registry';
import { UpstreamModule } from './upstream/upstream.module';
import { RedisWindowStorage } from './throttling/redis-window-storage';
import { Throttle, THROTTLER_STORAGE } from './throttling/throttle';
import { profileController } from './revocation/profile-controller';
import { RevocationEngine } from './revocation/revocation-engine';
import { RevocationPipeline } from './revocation/revocation-pipeline';
import { RevocationStore } from './revocation/revocation-store';

/** The controller serving a profile's route. */
const controllerOf = (profile: ProfileName): Type => (profile === 'introspect' ? IntrospectionController : profileController(profile));

/** The public port's API (docs/api.md §2, §11.2): the profiles' endpoints, discovery, and what they share. */
@Module({})
export class PublicApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: PublicApiModule,
      imports: [UpstreamModule.register(config), EventsModule],
      // A profile switched off by PROFILES has no route at all (404).
      controllers: [MetadataController, SsfConfigurationController, OpenApiController, JwksController, ...[...config.profiles].map(controllerOf)],
      providers: [
        CallerSteps,
        IntrospectionPipeline,
        ...TOKEN_STANDING_PROVIDERS,
        RulePruner,
        ClientAuthenticator,
        ClientRegistry,
        RevocationEngine,
        RevocationStore,
        RevocationPipeline,
        TenantDirectory,
        TenantRegistry,
        ...CERTIFICATE_PROVIDERS,
        Throttle,
        {
          provide: THROTTLER_STORAGE,
          inject: [REDIS],
          useFactory: (redis: Redis | null) => (redis ? new RedisWindowStorage(redis) : new ThrottlerStorageService()),
        },
        {
          provide: REPLAY_STORE,
          inject: [APP_CONFIG, DataSource, REDIS],
          useFactory: (config: AppConfig, db: DataSource, redis: Redis | null) => (redis ? new RedisReplayStore(redis) : new PostgresReplayStore(db, config)),
        },
      ],
    };
  }
}
