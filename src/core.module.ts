import { Global, Module, type DynamicModule } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from './config/config';
import { Readiness } from './health/readiness';
import { ClientCache } from './client-auth/client-cache';
import type { ClientRow } from './client-auth/client-registry';
import { Metrics } from './metrics/metrics';
import { REDIS } from './redis/redis';
import { TokenStatusCache } from './tokens/token-status-cache';
import { SigningKeys } from './signing/signing-keys';
import { KeySets } from './client-auth/key-sets';
import { UpstreamIntrospection } from './introspection/upstream-introspection';
import { SetSignal } from './events/set-signal';

export const APP_CONFIG = Symbol('APP_CONFIG');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** What the public and the management application share: one config, one pool, one Redis connection, one logger. */
export interface SharedServices {
  readonly config: AppConfig;
  readonly dataSource: DataSource;
  readonly logger: Logger;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  /** Client registrations, shared so that an admin change invalidates what authentication uses. */
  readonly clientCache: ClientCache<ClientRow>;
  /** Token status for introspection and the check, forgotten on every revocation (docs/api.md §11.6). */
  readonly tokenStatus: TokenStatusCache;
  /** With REDIS_URL: the process's one connection (src/redis/redis.ts). */
  readonly redis?: Redis;
  /** The gateway's signing key (docs/api.md §13), the same on every replica. */
  readonly signingKeys: SigningKeys;
  /** Verification keys fetched from jwks_uris (clients', access tokens'): one cache for both listeners. */
  readonly keySets: KeySets;
  /** docs/api.md §11.4, with UPSTREAM_INTROSPECTION_URL: one client, one breaker, one bound on questions in flight. */
  readonly upstreamIntrospection: UpstreamIntrospection | null;
  /** docs/api.md §12.4, §12.5: who waits for new security event tokens is told here. */
  readonly setSignal: SetSignal;
}

@Global()
@Module({})
export class CoreModule {
  static register(shared: SharedServices): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: shared.config },
      { provide: DataSource, useValue: shared.dataSource },
      { provide: ROOT_LOGGER, useValue: shared.logger },
      { provide: Readiness, useValue: shared.readiness },
      { provide: Metrics, useValue: shared.metrics },
      { provide: ClientCache, useValue: shared.clientCache },
      { provide: TokenStatusCache, useValue: shared.tokenStatus },
      { provide: REDIS, useValue: shared.redis ?? null },
      { provide: SigningKeys, useValue: shared.signingKeys },
      { provide: KeySets, useValue: shared.keySets },
      { provide: UpstreamIntrospection, useValue: shared.upstreamIntrospection },
      { provide: SetSignal, useValue: shared.setSignal },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
