import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { SigningKeys } from '../signing/signing-keys';
import { TokenCipher } from '../upstream/token-cipher';
import { PollController } from './poll.controller';
import { PushDelivery } from './push-delivery';
import { SetExpander } from './set-expander';
import { SetPruner } from './set-pruner';
import { SetPusher } from './set-pusher';
import { SetSignal } from './set-signal';
import { SetStore } from './set-store';
import { StreamStore } from './stream-store';
import { SEALED_FOR } from './streams.controller';

/**
 * The transmitter's delivery side (docs/api.md §12.4, §12.5), in the public application, once per
 * process: the poll endpoint, the push worker, the expansion of bulk revocations' bundles and the
 * retention pruning. The SETs themselves are written by the revocation statements.
 */
@Module({
  controllers: [PollController],
  providers: [
    StreamStore,
    SetPruner,
    {
      provide: SetStore,
      inject: [DataSource, Metrics],
      useFactory: (db: DataSource, metrics: Metrics) => {
        const store = new SetStore(db);
        metrics.observeSets(() => store.pending());
        return store;
      },
    },
    {
      provide: SetExpander,
      inject: [DataSource, SetSignal, ROOT_LOGGER],
      useFactory: (db: DataSource, signal: SetSignal, logger: Logger) => new SetExpander(db, signal, logger),
    },
    {
      provide: PushDelivery,
      inject: [SetStore, SigningKeys, SetSignal, Metrics, ROOT_LOGGER, APP_CONFIG],
      useFactory: (store: SetStore, keys: SigningKeys, signal: SetSignal, metrics: Metrics, logger: Logger, config: AppConfig) =>
        new PushDelivery(store, new SetPusher(config.events.pushTimeoutMs), keys, signal, metrics, logger, {
          timeoutMs: config.events.pushTimeoutMs,
          cipher: config.encryption ? new TokenCipher(config.encryption.key, config.encryption.previous) : undefined,
          sealedFor: (streamId) => `${SEALED_FOR}${streamId}`,
        }),
    },
  ],
})
export class EventsModule {}
