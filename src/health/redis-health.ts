import type { OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

/**
 * docs/api.md §10: with REDIS_URL set, readiness also needs Redis — the jti replay store lives there,
 * and without it every private_key_jwt request is a 503. Its own connection, like the stores'.
 */
export class RedisHealth implements OnApplicationShutdown {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 1000 });
    this.redis.on('error', () => undefined); // the probe reports it; ioredis reconnects by itself
  }

  async answers(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
