import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Logger } from 'pino';
import type { ClientRole } from '../client-auth/credentials';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { addressKey } from './address-key';

export const THROTTLER_STORAGE = Symbol('THROTTLER_STORAGE');

/** The source of a request whose peer address is gone (its connection was reset): one shared budget. */
export const UNKNOWN_SOURCE = 'unknown';

/** The fapi wording (docs/api.md §7 via the FAPI issue), used by every profile. */
const THROTTLED = 'Too many requests, maximum capacity reached. Requests are now throttled.';

/**
 * docs/api.md §7: a budget per source address (checked first, before any database or
 * crypto work; IPv6 by its /64, THROTTLE_IPV6_PREFIX) and one per authenticated client, each
 * `limit` requests per THROTTLE_TTL_MS window, counted in @nestjs/throttler's storage — in
 * process, or in Redis so that every replica shares one budget.
 *
 * A public client (`none`) proves nothing: anyone can send its client_id. Its budget is kept per
 * client and source address, so that a stranger who spends it blocks only himself, never every
 * user of the app (whose revocation is the safety action); the source budget bounds him anyway.
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
    return this.hit('ip', this.sourceKey(address), this.config.throttle.ipLimit);
  }

  /**
   * `role`: a resource server has its own, larger budget (docs/api.md §11.1): it introspects on
   * behalf of every customer of the bank's APIs. `source`: the caller's address, for a public
   * client (its budget is per client and source).
   */
  client(tenant: string, clientId: string, role: ClientRole, source?: string): Promise<void> {
    const subject = source === undefined ? `${tenant}\u0000${clientId}` : `${tenant}\u0000${clientId}\u0000${this.sourceKey(source)}`;
    const { clientLimit, resourceServerLimit } = this.config.throttle;
    return this.hit('client', subject, role === 'resource_server' ? resourceServerLimit : clientLimit);
  }

  private sourceKey(address: string): string {
    return addressKey(address, this.config.throttle.ipv6Prefix) ?? address;
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
    throw new ProtocolError('too_many_requests', THROTTLED, {
      detail: `${scope} budget of ${limit} per ${ttl} ms exhausted`,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(record.timeToBlockExpire))) },
    });
  }
}
