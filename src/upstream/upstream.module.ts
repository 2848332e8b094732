import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { Outbox } from './outbox';
import { OutboxWorker } from './outbox-worker';
import { UpstreamPropagation } from './propagation';
import { TokenCipher } from './token-cipher';
import { UpstreamClient } from './upstream-client';

/**
 * Upstream propagation (docs/api.md §6). Without UPSTREAM_REVOCATION_URL it provides `null` and no
 * worker, so a local-only gateway carries none of it.
 */
@Module({})
export class UpstreamModule {
  static register(config: AppConfig): DynamicModule {
    if (!config.upstream) {
      return { module: UpstreamModule, providers: [{ provide: UpstreamPropagation, useValue: null }], exports: [UpstreamPropagation] };
    }
    const upstream = config.upstream;
    return {
      module: UpstreamModule,
      providers: [
        {
          provide: UpstreamPropagation,
          inject: [DataSource, Metrics, ROOT_LOGGER],
          useFactory: (db: DataSource, metrics: Metrics, logger: Logger) =>
            new UpstreamPropagation(
              upstream,
              new UpstreamClient(upstream),
              new Outbox(db),
              new TokenCipher(upstream.encryptionKey, upstream.previousEncryptionKey),
              metrics,
              logger,
            ),
        },
        {
          provide: OutboxWorker,
          inject: [UpstreamPropagation, ROOT_LOGGER],
          useFactory: (propagation: UpstreamPropagation, logger: Logger) => new OutboxWorker(propagation, logger),
        },
      ],
      exports: [UpstreamPropagation],
    };
  }
}
