/**
 * `npm run migration:run` / `migration:revert`: the same configuration and data source as the
 * application, so it migrates exactly the database the gateway would use (embedded included).
 */
import { ConfigError, loadConfig } from '../config/config';
import { createRootLogger } from '../logging/logging';
import { openDatabase } from './database';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate run|revert');
  const config = loadConfig();
  const logger = createRootLogger(config);
  const database = await openDatabase(config, logger, { runMigrations: false });
  try {
    if (command === 'run') {
      const applied = await database.dataSource.runMigrations({ transaction: 'each' });
      logger.info({ migrations: applied.map((m) => m.name) }, applied.length ? 'migrations applied' : 'schema is up to date');
    } else {
      await database.dataSource.undoLastMigration({ transaction: 'each' });
      logger.info('last migration reverted');
    }
  } finally {
    await database.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
