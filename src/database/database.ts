import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { markConnectFailures } from './db-errors';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { dataSourceOptions } from './data-source-options';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';

/** `DATA_DIR=memory://` keeps the embedded database in memory (tests, throwaway demos). */
export const IN_MEMORY = 'memory://';

export interface Database {
  readonly dataSource: DataSource;
  readonly embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured PostgreSQL, or starts the embedded one. Migrations run at start when the
 * database is embedded (nothing else would run them) or when MIGRATIONS_RUN=true.
 */
export async function openDatabase(config: AppConfig, logger: Logger, options: { runMigrations?: boolean } = {}): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir === IN_MEMORY ? undefined : config.dataDir);
    url = embedded.url;
    logger.info({ data_dir: config.dataDir }, 'embedded PostgreSQL (PGlite) started');
  }
  // PGlite serves one session at a time: one pooled connection (a second would wait on the first),
  // kept open: closing it when idle buys nothing there, and a request arriving as pglite-socket
  // let the old connection go met a closed socket (503).
  const dataSource = new DataSource(embedded ? dataSourceOptions(url, config, 1, logger, 0) : dataSourceOptions(url, config, config.database.poolSize, logger));
  try {
    await dataSource.initialize();
    // Failures to obtain a connection are the database being unavailable, whatever they say.
    markConnectFailures((dataSource.driver as PostgresDriver).master as Pool);
    if (options.runMigrations ?? (embedded !== undefined || config.migrationsRun)) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    embedded: embedded !== undefined,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
