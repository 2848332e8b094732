import type Redis from 'ioredis';

/**
 * docs/api.md §10: with REDIS_URL set, readiness also needs Redis — the jti replay store lives there,
 * and without it every private_key_jwt request is a 503. It asks over the stores' own connection
 * (src/redis/redis.ts), so "up" means the connection they use answers.
 */
export class RedisHealth {
  constructor(private readonly redis: Redis) {}

  async answers(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}
