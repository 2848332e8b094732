import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { isUnanswered, markUnanswered } from './db-errors';

const DUPLICATE_PREPARED_STATEMENT = '42P05';

/**
 * The pg pool under TypeORM's data source, for the hot path: named prepared statements are parsed
 * and planned once per connection instead of on every request (TypeORM's `query()` sends unnamed
 * ones), and no QueryRunner is created per call. Same pool, same limits, same timeouts.
 */
export class PreparedStatements {
  private readonly pool: Pool;

  constructor(dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  async run<Row extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return this.withClient((client) => prepared<Row>(client, name, text, values));
  }

  /**
   * One statement planned for this execution (an unnamed statement): for a table whose size swings
   * by orders of magnitude, such as a queue. A connection's cached generic plan is made from the
   * table as it was then — nearly empty, say — and kept: on the SET table it joined 64 claimed
   * rows back by scanning all 200,000 (100 ms a claim instead of 2). Planning costs ~0.3 ms.
   */
  async planned<Row extends QueryResultRow>(text: string, values: unknown[]): Promise<Row[]> {
    return this.withClient(async (client) => (await client.query<Row>(text, values)).rows);
  }

  /**
   * Several prepared statements in one transaction on one connection: committed if `work`
   * returns, rolled back if it throws (a failed statement has aborted the transaction anyway).
   *
   * `customPlans`: the transaction's statements are planned for their own values on every
   * execution instead of the connection's one generic plan (data-source-options.ts). For a
   * statement whose criteria are optional (`$2::text IS NULL OR client_id = $2`), or whose values
   * are skewed, a generic plan is one made for no value in particular; a custom plan folds the
   * absent criteria away and picks the index of the ones given. Planning costs a few
   * milliseconds each time: for admin rates, not the hot path.
   */
  async transaction<T>(
    work: (run: <Row extends QueryResultRow>(name: string, text: string, values: unknown[]) => Promise<Row[]>) => Promise<T>,
    { customPlans = false }: { customPlans?: boolean } = {},
  ): Promise<T> {
    return this.withClient(async (client) => {
      for (;;) {
        await client.query('BEGIN');
        try {
          if (customPlans) await client.query('SET LOCAL plan_cache_mode = force_custom_plan');
          const result = await work((name, text, values) => prepared(client, name, text, values, true));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          // A statement left prepared by an earlier connection (PGlite): it cannot be dropped
          // inside the transaction it aborted, so it is dropped after, and the work runs again.
          if (!(error instanceof LeftPrepared)) throw error;
          await client.query(`DEALLOCATE ${error.statement}`);
        }
      }
    });
  }

  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client that loses its socket emits 'error'; unheard, that would crash the process.
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      // Only an error the server reported (it has a severity) leaves the connection usable; a
      // socket error or a client-side timeout must not go back to the pool, and is the database
      // being unavailable (db-errors.ts), whatever its message.
      if (isUnanswered(error)) broken = markUnanswered(error) as Error;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

class LeftPrepared extends Error {
  constructor(readonly statement: string) {
    super(`prepared statement ${statement} already exists`);
  }
}

async function prepared<Row extends QueryResultRow>(client: PoolClient, name: string, text: string, values: unknown[], inTransaction = false): Promise<Row[]> {
  try {
    return (await client.query<Row>({ name, text, values })).rows;
  } catch (error) {
    // PGlite keeps one server session behind every socket connection, so a statement prepared by
    // an earlier connection can still exist on a new one. Drop it and prepare again.
    if ((error as { code?: string }).code !== DUPLICATE_PREPARED_STATEMENT) throw error;
    if (inTransaction) throw new LeftPrepared(name);
    await client.query(`DEALLOCATE ${name}`);
    return (await client.query<Row>({ name, text, values })).rows;
  }
}
