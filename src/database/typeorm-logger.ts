import type { Logger as PinoLogger } from 'pino';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's own messages (pool errors, migrations) as pino JSON lines. Queries are not logged and
 * query parameters never are: they carry token hashes and client metadata.
 */
export class TypeOrmPinoLogger implements TypeOrmLogger {
  constructor(private readonly logger: PinoLogger) {}

  logQuery(): void {}

  logQueryError(error: string | Error): void {
    this.logger.warn({ err: typeof error === 'string' ? error : error.message }, 'query failed');
  }

  logQuerySlow(time: number): void {
    this.logger.warn({ duration_ms: time }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    this.logger[level === 'warn' ? 'warn' : 'info']({ detail: String(message) }, 'database');
  }
}
