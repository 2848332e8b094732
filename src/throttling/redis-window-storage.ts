import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type Redis from 'ioredis';

/**
 * A fixed window per key in Redis, shared by every replica: the first hit opens a window of `ttl`
 * ms, every hit counts, and a hit over `limit` is refused until the window closes — so Retry-After
 * is exactly the time until the window frees, and waiting it out always works. (The Lua script of
 * @nest-lab/throttler-storage-redis blocks for a fresh `blockDuration` and counts refused hits
 * into the next window.) One atomic script, one round trip.
 */
const WINDOW = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { hits, ttl }`;

export class RedisWindowStorage implements ThrottlerStorage {
  /** The process's one connection (src/redis/redis.ts), which fails fast; the throttle fails open on an error. */
  constructor(private readonly redis: Redis) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const [hits, remainingMs] = (await this.redis.eval(WINDOW, 1, `revgw:throttle:${key}`, ttl)) as [number, number];
    const seconds = Math.ceil(remainingMs / 1000);
    return { totalHits: hits, timeToExpire: seconds, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? seconds : 0 };
  }
}
