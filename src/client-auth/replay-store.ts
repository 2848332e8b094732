import Redis from 'ioredis';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';

/**
 * Remembers each client assertion's `jti` until the assertion expires, so that a replay is refused
 * (RFC 7523 §3 item 7). Shared by every replica: PostgreSQL by default, Redis when REDIS_URL is set.
 */
export const REPLAY_STORE = Symbol('REPLAY_STORE');

export interface ReplayStore extends OnApplicationShutdown {
  /** `true` the first time a (tenant, client, jti) is seen before `until`; `false` for a replay. */
  firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean>;
}

/** Expired entries are pruned every this many uses, by whichever request comes along. */
const PRUNE_EVERY = 1000;

export class PostgresReplayStore implements ReplayStore {
  private readonly statements: PreparedStatements;
  private uses = 0;

  constructor(dataSource: DataSource) {
    this.statements = new PreparedStatements(dataSource);
  }

  async firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean> {
    if (++this.uses % PRUNE_EVERY === 0) {
      await this.statements.run('revgw_jti_prune', 'DELETE FROM client_assertion_jtis WHERE expires_at < now()', []);
    }
    // A jti whose earlier assertion has expired may be used again; a live one may not.
    const rows = await this.statements.run(
      'revgw_jti_use',
      `INSERT INTO client_assertion_jtis (tenant, client_id, jti, expires_at) VALUES ($1, $2, $3, to_timestamp($4))
       ON CONFLICT (tenant, client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
        WHERE client_assertion_jtis.expires_at < now()
       RETURNING 1`,
      [tenant, clientId, jti, until],
    );
    return rows.length === 1;
  }

  async onApplicationShutdown(): Promise<void> {}
}

export class RedisReplayStore implements ReplayStore {
  private readonly redis: Redis;

  constructor(url: string) {
    // Fail fast while Redis is away: a revocation must not queue behind a cache outage.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 500 });
    this.redis.on('error', () => undefined); // reported per command; ioredis reconnects by itself
  }

  async firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean> {
    const key = `revgw:jti:${JSON.stringify([tenant, clientId, jti])}`;
    try {
      return (await this.redis.set(key, '1', 'EXAT', Math.max(until, Math.floor(Date.now() / 1000) + 1), 'NX')) === 'OK';
    } catch (error) {
      // Without the store a replay cannot be ruled out: refuse for now, the client retries.
      throw ProtocolError.temporarilyUnavailable(`replay store: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
