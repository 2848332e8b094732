import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { SetStore } from './set-store';

const EVERY_MS = 60_000;
const BATCH = 10_000;

/**
 * docs/api.md §12.5 SSF_RETENTION_S, off the hot path: once a minute on every replica, the SETs of
 * disabled streams' earlier epochs go, then those older than retention, counted as `expired`, in
 * batches (replicas skip each other's rows).
 */
@Injectable()
export class SetPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly sets: SetStore,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.round ??= this.prune()
        .catch((error: Error) => this.logger.warn({ err: { message: error.message } }, 'security event token pruning failed'))
        .finally(() => (this.round = undefined));
    }, EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.round;
  }

  async prune(): Promise<void> {
    // A disabled stream's SETs (SSF 1.0 §8.1.2.1: it holds none), dropped off the admin request.
    while ((await this.sets.pruneStale(BATCH)) === BATCH) if (this.stopping) return;
    for (;;) {
      const gone = await this.sets.prune(this.config.events.retentionS, BATCH);
      let total = 0;
      for (const { method, expired } of gone) {
        total += expired;
        if (method) this.metrics.setDeliveries.inc({ method, outcome: 'expired' }, expired);
      }
      if (total > 0)
        this.logger.warn({ expired: total, retention_s: this.config.events.retentionS }, 'security event tokens dropped undelivered after retention');
      if (total < BATCH) return;
    }
  }
}
