import { Module, type DynamicModule } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { ClientAuthenticator } from '../client-auth/client-authenticator';
import { ClientRegistry } from '../client-auth/client-registry';
import { KeySets } from '../client-auth/key-sets';
import { ClientCertificates, TrustedProxies } from '../client-auth/mtls';
import { PostgresReplayStore, RedisReplayStore, REPLAY_STORE } from '../client-auth/replay-store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { MetadataController } from '../discovery/metadata.controller';
import { OpenApiController } from '../discovery/openapi.controller';
import { REDIS } from '../redis/redis';
import { JwksController } from '../signing/jwks.controller';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { TenantRegistry } from '../tenancy/tenant-registry';
import { UpstreamModule } from '../upstream/upstream.module';
import { RedisWindowStorage } from '../throttling/redis-window-storage';
import { Throttle, THROTTLER_STORAGE } from '../throttling/throttle';
import { profileController } from './profile-controller';
import { RevocationEngine } from './revocation-engine';
import { RevocationPipeline } from './revocation-pipeline';
import { RevocationStore } from './revocation-store';

@Module({})
export class RevocationModule {
  static register(config: AppConfig): DynamicModule {
    const profiles = config.profiles;
    return {
      module: RevocationModule,
      imports: [UpstreamModule.register(config)],
      // A profile switched off by PROFILES has no route at all (404).
      controllers: [MetadataController, OpenApiController, JwksController, ...[...profiles].map(profileController)],
      providers: [
        ClientAuthenticator,
        ClientRegistry,
        RevocationEngine,
        RevocationStore,
        RevocationPipeline,
        TenantDirectory,
        TenantRegistry,
        KeySets,
        { provide: TrustedProxies, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TrustedProxies(config.trustedProxies) },
        {
          provide: ClientCertificates,
          inject: [APP_CONFIG, TrustedProxies],
          useFactory: (config: AppConfig, proxies: TrustedProxies) =>
            new ClientCertificates({ header: config.mtlsClientCertHeader, proxies, trustAnchors: config.tls?.caFile !== undefined }),
        },
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
