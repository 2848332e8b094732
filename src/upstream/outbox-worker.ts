import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { UpstreamPropagation } from './propagation';

/** How often each replica looks for due outbox rows. */
export const OUTBOX_POLL_MS = 1000;

/**
 * Drives the outbox in the background, one round at a time (a round never overlaps the next).
 * On shutdown it stops polling and waits for the round in flight, whose deliveries are bounded by
 * UPSTREAM_TIMEOUT_MS, so no claimed row is abandoned mid-delivery.
 */
export class OutboxWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly propagation: UpstreamPropagation,
    private readonly logger: Logger,
    private readonly pollMs = OUTBOX_POLL_MS,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.pollMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.round;
    await this.propagation.close();
  }

  private tick(): void {
    if (this.round || this.stopping) return;
    this.round = this.propagation
      .deliverDue(() => this.stopping)
      .then(
        () => undefined,
        // The database is away: the next round tries again; /health/ready reports the outage.
        (error: Error) => this.logger.warn({ err: error.message }, 'outbox round failed'),
      )
      .finally(() => (this.round = undefined));
  }
}
