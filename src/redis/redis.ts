import Redis from 'ioredis';
import { hostname } from 'node:os';

/**
 * The name the connection gives itself (CLIENT SETNAME), so that `CLIENT LIST` tells which pod and
 * process holds it.
 */
export const redisClientName = () => `revgw-${hostname().replace(/[^\w.-]/g, '_')}-${process.pid}`;

/**
 * The process's one Redis connection (REDIS_URL, docs/configuration.md), shared by the jti replay
 * store, the throttling counters and readiness, on both listeners. It fails fast while Redis is
 * away: no offline queue, one attempt per command, and a bound on a connection that is open but
 * silent, so that no request queues behind a cache outage. Each failed command is reported to its
 * caller, and ioredis reconnects by itself. Closed by the gateway, after both listeners.
 */
export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    connectionName: redisClientName(),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
  });
  redis.on('error', () => undefined);
  return redis;
}

export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

/** Nest token of the shared connection (src/core.module.ts); `null` without REDIS_URL. */
export const REDIS = Symbol('REDIS');
