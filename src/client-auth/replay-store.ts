import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { failsEveryRequest, retryingConflicts } from '../database/db-errors';
import { GroupCommit, statementSlots } from '../database/group-commit';
import { PreparedStatements } from '../database/pg-pool';
import { ProtocolError } from '../protocol/protocol-error';

/**
 * Remembers each client assertion's `jti` until the assertion expires, so that a replay is refused
 * (RFC 7523 §3 item 7). Shared by every replica: PostgreSQL by default, Redis when REDIS_URL is set.
 */
export const REPLAY_STORE = Symbol('REPLAY_STORE');

export interface ReplayStore {
  /** `true` the first time a (tenant, client, jti) is seen before `until`; `false` for a replay. */
  firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean>;
}

/** Expired entries are pruned every this many uses, by whichever request comes along. */
const PRUNE_EVERY = 1000;

interface JtiUse {
  readonly tenant: string;
  readonly clientId: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly until: number;
}

/**
 * Records first uses, many at once (group commit): a jti whose earlier assertion has expired may
 * be used again; a live one may not. Rows go in key order, so two batches naming the same keys
 * take their locks in the same order.
 */
const USE_JTIS_SQL = `
INSERT INTO client_assertion_jtis (tenant, client_id, jti, expires_at)
SELECT tenant, client_id, jti, to_timestamp(until)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS r(tenant, client_id, jti, until)
ON CONFLICT (tenant, client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
 WHERE client_assertion_jtis.expires_at < now()
RETURNING tenant, client_id, jti`;

const keyOf = (use: Pick<JtiUse, 'tenant' | 'clientId' | 'jti'>) => JSON.stringify([use.tenant, use.clientId, use.jti]);

export class PostgresReplayStore implements ReplayStore {
  private readonly statements: PreparedStatements;
  private readonly group: GroupCommit<JtiUse, boolean>;
  private uses = 0;

  constructor(dataSource: DataSource, config: Pick<AppConfig, 'databaseUrl' | 'database'>) {
    this.statements = new PreparedStatements(dataSource);
    this.group = new GroupCommit(
      async (use) => (await this.record([use]))[0],
      (uses) => this.record(uses),
      failsEveryRequest,
      statementSlots(config, 1 / 4),
      config.database.statementTimeoutMs,
      () => ProtocolError.temporarilyUnavailable('replay store batch retry budget spent'),
    );
  }

  async firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean> {
    if (++this.uses % PRUNE_EVERY === 0) {
      // Housekeeping, off the request's path: a failure here must not fail the request (the next
      // prune catches up), and an expired row is harmless meanwhile (its jti may be used again).
      void this.statements.run('revgw_jti_prune', 'DELETE FROM client_assertion_jtis WHERE expires_at < now()', []).catch(() => undefined);
    }
    return this.group.submit({ tenant, clientId, jti, until });
  }

  /** One statement for many uses; within it, a key named twice is a first use once, then a replay. */
  private async record(uses: readonly JtiUse[]): Promise<boolean[]> {
    // The first request naming a key is its use (with its expiry); later ones in the batch replay it.
    const keys = uses.map(keyOf);
    const firsts = new Map<string, JtiUse>();
    keys.forEach((key, i) => firsts.has(key) || firsts.set(key, uses[i]));
    const distinct = [...firsts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, use]) => use);
    const column = <T>(pick: (use: JtiUse) => T) => distinct.map(pick);
    const rows = await retryingConflicts(() =>
      this.statements.run<{ tenant: string; client_id: string; jti: string }>('revgw_jti_use', USE_JTIS_SQL, [
        column((u) => u.tenant),
        column((u) => u.clientId),
        column((u) => u.jti),
        column((u) => u.until),
      ]),
    );
    // Matched back by value: the client assertion check only lets well-formed strings through, and
    // PostgreSQL stores those exactly as sent.
    const fresh = new Set(rows.map((row) => keyOf({ tenant: row.tenant, clientId: row.client_id, jti: row.jti })));
    return keys.map((key) => fresh.delete(key));
  }
}

export class RedisReplayStore implements ReplayStore {
  /** The process's one connection (src/redis/redis.ts), which fails fast: a revocation must not queue behind a cache outage. */
  constructor(private readonly redis: Redis) {}

  async firstUse(tenant: string, clientId: string, jti: string, until: number): Promise<boolean> {
    const key = `revgw:jti:${JSON.stringify([tenant, clientId, jti])}`;
    try {
      return (await this.redis.set(key, '1', 'EXAT', Math.max(until, Math.floor(Date.now() / 1000) + 1), 'NX')) === 'OK';
    } catch (error) {
      // Without the store a replay cannot be ruled out: refuse for now, the client retries.
      throw ProtocolError.temporarilyUnavailable(`replay store: ${(error as Error).message}`);
    }
  }
}
