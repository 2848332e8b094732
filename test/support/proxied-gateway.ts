import { startEmbeddedPostgres } from '../../src/database/embedded';
import { freshDatabase, startTestGateway, type TestGateway } from './gateway';
import { TcpProxy } from './tcp-proxy';

export interface ProxiedGateway {
  readonly gw: TestGateway;
  /** Between the gateway and its database: `refuse()`, `blackhole()`, `restore()`. */
  readonly proxy: TcpProxy;
  /** The embedded database (one connection) rather than a server. */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/**
 * A gateway whose database connections all go through a TcpProxy, on a fresh database of the
 * DATABASE_URL server or an embedded one, with short connect and statement timeouts: for tests
 * that take the database away mid-run.
 */
export async function startProxiedGateway(env: Record<string, string> = {}): Promise<ProxiedGateway> {
  const fresh = await freshDatabase();
  const embedded = fresh ? undefined : await startEmbeddedPostgres(undefined);
  const url = fresh?.url ?? embedded!.url;
  const proxy = TcpProxy.to(url);
  await proxy.start();
  const gw = await startTestGateway({
    DATABASE_URL: proxy.route(url),
    MIGRATIONS_RUN: 'true',
    DATABASE_POOL_SIZE: embedded ? '1' : '4',
    DATABASE_CONNECT_TIMEOUT_MS: '500',
    DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    ...env,
  });
  return {
    gw,
    proxy,
    embedded: embedded !== undefined,
    async stop() {
      await gw.stop();
      await proxy.stop();
      await embedded?.stop();
      await fresh?.drop();
    },
  };
}
