import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { sqlState } from './db-errors';

/** Registrations between two ANALYZEs: at least this many, and a tenth of the table. */
const MIN_CHANGE = 1000;
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * Keeps the planner's statistics of the token tables current after registrations. The hot-path
 * statements are prepared once per connection with a generic plan (data-source-options.ts), made
 * from the statistics of the moment; a plan made while `tokens` was analysed as empty scans the
 * whole table per request once it holds many rows (a RELATED_CONSENT revocation took 1.6 s with
 * 300,000 rows, 140 s in a review), until an ANALYZE invalidates it on every connection.
 * Autovacuum gets there within a minute or so; a bulk registration through the admin API runs it
 * at once, off the request path, one at a time. (Tokens loaded with SQL directly: run ANALYZE.)
 */
export class PlannerStatistics {
  private registered = 0;
  private rowsAtLastAnalyze = 0;
  private running = false;
  private disabled = false;

  constructor(
    private readonly db: DataSource,
    private readonly logger: Logger,
  ) {}

  /** `count` tokens were just stored. */
  noteStored(count: number): void {
    this.registered += count;
    if (this.running || this.disabled || this.registered < Math.max(MIN_CHANGE, this.rowsAtLastAnalyze / 10)) return;
    this.running = true;
    this.registered = 0;
    void this.analyze().finally(() => (this.running = false));
  }

  private async analyze(): Promise<void> {
    try {
      await this.db.query('ANALYZE tokens, consents');
      const [row] = (await this.db.query(`SELECT reltuples::bigint AS rows FROM pg_class WHERE oid = 'tokens'::regclass`)) as Array<{ rows: string }>;
      this.rowsAtLastAnalyze = Math.max(0, Number(row.rows));
    } catch (error) {
      // Not the table's owner: statistics are left to autovacuum, and this is not tried again.
      // Anything else (a lock held by a VACUUM, a timeout, a failover) is tried again after the
      // next thousand registrations.
      if (sqlState(error) === INSUFFICIENT_PRIVILEGE) this.disabled = true;
      const message = this.disabled ? 'ANALYZE is not permitted; leaving statistics to autovacuum' : 'ANALYZE after a registration failed; tried again later';
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, message);
    }
  }
}
