import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { startGateway, type Gateway } from './gateway';
import { createRootLogger } from './logging/logging';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createRootLogger(config);

  // docs/api.md §1 SIGTERM. The handlers come before the start: as PID 1 in a container, a signal
  // with no handler would be ignored, and one arriving mid-start must still stop the process.
  let gateway: Gateway | undefined;
  let signalled: string | undefined;
  const stop = () => {
    logger.info({ signal: signalled }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ grace_ms: config.shutdownGraceMs }, 'shutdown grace period exceeded');
      process.exit(1);
    }, config.shutdownGraceMs);
    deadline.unref();
    gateway!.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    if (gateway) stop(); // else: stopped as soon as the start completes
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  gateway = await startGateway(config, logger);
  if (signalled) stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
