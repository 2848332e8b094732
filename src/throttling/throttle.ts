import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';

export const THROTTLER_STORAGE = Symbol('THROTTLER_STORAGE');

/** The fapi wording (CONTRACT §7 via the FAPI issue), used by every profile. */
const THROTTLED = 'Too many requests, maximum capacity reached. Requests are now throttled.';

/**
 * CONTRACT §7: a budget per source IP (checked first, before any database or crypto work) and one
 * per authenticated client, each `limit` requests per THROTTLE_TTL_MS window, counted in
 * @nestjs/throttler's storage — in process, or in Redis so that every replica shares one budget.
 *
 * When the counter store fails (Redis down), requests pass: revocation is a safety action, and a
 * cache outage must not stop a bank's customers from cutting off a third party (fail open). The
 * failure is logged.
 */
@Injectable()
export class Throttle {
  constructor(
    @Inject(THROTTLER_STORAGE) private readonly storage: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  ip(address: string): Promise<void> {
    return this.hit('ip', address, this.config.throttle.ipLimit);
  }

  client(tenant: string, clientId: string): Promise<void> {
    return this.hit('client', `${tenant}\u0000${clientId}`, this.config.throttle.clientLimit);
  }

  private async hit(scope: 'ip' | 'client', subject: string, limit: number): Promise<void> {
    if (limit === 0) return;
    const ttl = this.config.throttle.ttlMs;
    // The issuer namespaces the counters: two deployments sharing one Redis keep separate budgets.
    const key = `revgw|${this.config.issuer}|${scope}|${subject}`;
    let record;
    try {
      // No block duration: a refused hit is not counted (in process) and the refusal lasts only
      // until the window frees, which is what Retry-After says.
      record = await this.storage.increment(key, ttl, limit, 0, scope);
    } catch (error) {
      this.logger.warn({ scope, err: (error as Error).message }, 'throttle store unavailable; request allowed');
      return;
    }
    if (!record.isBlocked) return;
    this.metrics.throttled.inc({ scope });
    throw new ProtocolError(429, 'too_many_requests', THROTTLED, {
      detail: `${scope} budget of ${limit} per ${ttl} ms exhausted`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(record.timeToBlockExpire))) },
    });
  }
}
