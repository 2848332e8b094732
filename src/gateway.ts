import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TlsOptions as SecureServerOptions } from 'node:tls';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AdminModule } from './admin/admin.module';
import { AuthzModule } from './authz/authz.module';
import { StatusFeed } from './tokens/status-feed';
import { SETS_CHANNEL, SetSignal } from './events/set-signal';
import { KeySets } from './client-auth/key-sets';
import { UpstreamIntrospection } from './introspection/upstream-introspection';
import { TokenStatusCache } from './tokens/token-status-cache';
import { ClientCache } from './client-auth/client-cache';
import { TrustedProxies } from './client-auth/mtls';
import type { AppConfig } from './config/config';
import { ADMIN_BODY_LIMIT } from './admin/admin-gate';
import { CoreModule, type SharedServices } from './core.module';
import { openDatabase, type Database } from './database/database';
import { HealthModule } from './health/health.module';
import { Readiness } from './health/readiness';
import { createRootLogger, loggingModule } from './logging/logging';
import { Metrics } from './metrics/metrics';
import { MetricsController } from './metrics/metrics.controller';
import { ProtocolErrorFilter } from './protocol/error-filter';
import { PUBLIC_BODY_LIMIT } from './protocol/http-hooks';
import { installRequestSteps, type SurfaceSteps } from './protocol/request-steps';
import { clientErrorHandlerFor, connectHandlerFor, expectationHandlerFor, frameworkErrorsFor, type SocketAnswered } from './protocol/framework-errors';
import { validationPipe } from './protocol/validation';
import { closeRedis, openRedis } from './redis/redis';
import { PublicApiModule } from './public-api.module';
import { closeDraining, KEEP_ALIVE_DRAIN_MS } from './health/connection-drain';
import { SigningKeys } from './signing/signing-keys';
import { Outbox } from './upstream/outbox';
import { Throttle } from './throttling/throttle';

@Module({})
class PublicApplication {
  static register(shared: SharedServices): DynamicModule {
    return {
      module: PublicApplication,
      imports: [CoreModule.register(shared), loggingModule(shared.logger), PublicApiModule.register(shared.config)],
    };
  }
}

@Module({})
class ManagementApplication {
  static register(shared: SharedServices): DynamicModule {
    return {
      module: ManagementApplication,
      imports: [CoreModule.register(shared), loggingModule(shared.logger), HealthModule, AdminModule, AuthzModule],
      controllers: [MetricsController],
    };
  }
}

export interface Gateway {
  readonly publicUrl: string;
  readonly managementUrl: string;
  readonly database: Database;
  readonly readiness: Readiness;
  readonly signingKeys: SigningKeys;
  /** Stops accepting, lets in-flight requests finish, closes the Redis connection and the pool (and the embedded database). */
  close(): Promise<void>;
}

/**
 * Two Nest applications over one set of shared services: the public API for TPPs on PORT and the
 * management API (admin, health, metrics) on MANAGEMENT_PORT. Separate route tables mean an admin
 * route cannot exist on the public port, whatever a path or a proxy does.
 */
export async function startGateway(config: AppConfig, logger: Logger = createRootLogger(config)): Promise<Gateway> {
  const database = await openDatabase(config, logger);
  let signingKeys: SigningKeys;
  try {
    signingKeys = await SigningKeys.load(config, database.dataSource, logger);
  } catch (error) {
    await database.close();
    throw error;
  }
  const metrics = new Metrics();
  const setSignal = new SetSignal(database.embedded);
  const { tokenStatus, feed } = tokenStatusOf(config, database, metrics, logger, setSignal);
  const shared: SharedServices = {
    config,
    dataSource: database.dataSource,
    logger,
    readiness: new Readiness(),
    metrics,
    clientCache: new ClientCache(config.clientCacheTtlMs),
    tokenStatus,
    redis: config.redisUrl ? openRedis(config.redisUrl) : undefined,
    signingKeys,
    keySets: new KeySets(),
    upstreamIntrospection: config.introspectionOverlay ? new UpstreamIntrospection(config.introspectionOverlay, logger) : null,
    setSignal,
  };
  const apps: INestApplication[] = [];
  try {
    // Listening begins here, inside the try: a failed start stops it with everything else.
    feed?.start();
    await watchOutbox(shared);
    const publicApp = await createApplication(
      PublicApplication.register(shared),
      'public',
      shared,
      (app) => ({ surface: 'public', throttle: app.get(Throttle), proxies: app.get(TrustedProxies) }),
      tlsOptions(config),
    );
    apps.push(publicApp);

    const managementApp = await createApplication(ManagementApplication.register(shared), 'management', shared, (app) => {
      app.useGlobalPipes(validationPipe());
      return { surface: 'management', adminApiToken: config.adminApiToken };
    });
    apps.push(managementApp);

    await publicApp.listen(config.port, config.host);
    await managementApp.listen(config.managementPort, config.host);
    logger.info({ port: port(publicApp), management_port: port(managementApp), embedded: database.embedded }, 'gateway listening');

    return {
      publicUrl: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port(publicApp)}`,
      managementUrl: `http://127.0.0.1:${port(managementApp)}`,
      database,
      readiness: shared.readiness,
      signingKeys,
      async close() {
        // docs/api.md §1: readiness says 503 at once; the public port stops taking connections, gives
        // its open keep-alive connections a last answer (with `Connection: close`) and lets in-flight
        // requests finish; the management port stays up meanwhile, so probes keep getting that 503
        // rather than a refused connection; then the Redis connection and the pools close.
        shared.readiness.draining = true;
        const drainMs = Math.min(KEEP_ALIVE_DRAIN_MS, Math.floor(config.shutdownGraceMs / 4));
        await closeDraining(publicApp.getHttpServer(), () => publicApp.close(), drainMs);
        await closeDraining(managementApp.getHttpServer(), () => managementApp.close(), drainMs);
        await feed?.stop();
        await shared.upstreamIntrospection?.close();
        if (shared.redis) await closeRedis(shared.redis);
        await database.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(apps.map((app) => app.close()));
    await feed?.stop();
    await shared.upstreamIntrospection?.close();
    if (shared.redis) await closeRedis(shared.redis);
    await database.close();
    throw error;
  }
}

/**
 * One listener's application: its Fastify server, then its request steps in order
 * (src/protocol/request-steps.ts), then its routes (`init()`), then the 405 routes for their
 * other methods.
 */
async function createApplication(
  module: DynamicModule,
  surface: SurfaceSteps['surface'],
  { config, logger, readiness, metrics }: SharedServices,
  surfaceSteps: (app: NestFastifyApplication) => SurfaceSteps,
  tls?: SecureServerOptions,
): Promise<NestFastifyApplication> {
  const answeredOnSocket: SocketAnswered = (status, interactionId, inFlight) => {
    if (surface === 'public') metrics.httpRequests.inc({ profile: inFlight?.profile ?? 'other', status: String(status) });
    // A request already under way gets its one line when its connection closes (installRequestLog).
    if (!inFlight) logger.info({ interaction_id: interactionId, profile: surface === 'public' ? 'other' : undefined, status }, 'request completed');
  };
  const adapter = new FastifyAdapter({
    ...(surface === 'public' && tls ? { https: tls } : {}),
    bodyLimit: surface === 'public' ? PUBLIC_BODY_LIMIT : ADMIN_BODY_LIMIT,
    // A client gets REQUEST_TIMEOUT_MS (30 s) to send its request: a slow drip must not hold a
    // connection forever.
    requestTimeout: config.requestTimeoutMs,
    http: serverOptions(config),
    // While closing, a request on a connection already open is still served (and told
    // `Connection: close`); Fastify's own 503 would lack the contract's headers and body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A path parameter holds a client id (up to 255 characters, each up to 3 when percent-encoded).
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: frameworkErrorsFor(answeredOnSocket, surface),
    clientErrorHandler: clientErrorHandlerFor(answeredOnSocket),
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new ProtocolErrorFilter(logger));
  const addOtherMethods = installRequestSteps(adapter.getInstance(), surfaceSteps(app), { logger, metrics, readiness });
  app.getHttpServer().on('connect', connectHandlerFor(answeredOnSocket));
  app.getHttpServer().on('checkExpectation', expectationHandlerFor(answeredOnSocket));
  await app.init();
  addOtherMethods();
  return app;
}

/**
 * The public listener terminates TLS itself when TLS_CERT_FILE/TLS_KEY_FILE are set. It asks every
 * client for a certificate but lets the handshake succeed without one (or with a self-signed one):
 * which certificate a client needs is decided per client by its registered method (RFC 8705), and
 * `authorized` tells whether the chain verified against TLS_CA_FILE.
 */
/**
 * Node's HTTP server options, for both listeners. RFC 9112 §3.2's 400 for a missing Host is
 * answered by installResponseHeaders, in the contract's shape (Node's own answer is bare). Node
 * enforces the request timeout only while it is at least the headers timeout (60 s by default),
 * and checks every connectionsCheckingInterval (30 s by default, which would double the bound).
 */
function serverOptions(config: AppConfig): ServerOptions {
  return {
    requireHostHeader: false,
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(config.requestTimeoutMs / 4))),
  };
}

function tlsOptions(config: AppConfig): (SecureServerOptions & ServerOptions) | undefined {
  if (!config.tls) return undefined;
  return {
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
    // No TLS_CA_FILE: no trust anchors at all (Node would otherwise use its public root store).
    ca: config.tls.caFile ? readFileSync(config.tls.caFile) : [],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ...serverOptions(config),
  };
}

/**
 * revgw_outbox_pending counts the outbox whether or not propagation is on, and a start without
 * UPSTREAM_REVOCATION_URL over a non-empty outbox says so: those revocations wait for it.
 */
/**
 * docs/api.md §11.6: the token status kept in memory. One embedded database means one process,
 * whose own revocations are all there is to hear: memory is trusted from the start. On a database
 * server other replicas revoke too, so memory is trusted only while the change feed listens. The
 * feed's connection also hears of new security event tokens (docs/api.md §12.4, §12.5).
 */
function tokenStatusOf(
  config: AppConfig,
  database: Database,
  metrics: Metrics,
  logger: Logger,
  setSignal: SetSignal,
): { tokenStatus: TokenStatusCache; feed?: StatusFeed } {
  const counted = {
    hit: metrics.tokenStatusLookups.labels('hit'),
    miss: metrics.tokenStatusLookups.labels('miss'),
    bypass: metrics.tokenStatusLookups.labels('bypass'),
  };
  const { maxEntries, ttlMs } = config.tokenStatusCache;
  const tokenStatus = new TokenStatusCache(maxEntries, ttlMs, database.embedded, (result) => counted[result].inc());
  metrics.tokenStatusFeedUp.set(tokenStatus.trusted ? 1 : 0);
  if (database.embedded || !config.databaseUrl) return { tokenStatus };
  const onState = (up: boolean) => {
    metrics.tokenStatusFeedUp.set(up ? 1 : 0);
    setSignal.listening(up);
  };
  const feed = new StatusFeed(config.databaseUrl, config.database.connectTimeoutMs, tokenStatus, logger, onState, {
    [SETS_CHANNEL]: (payload) => setSignal.heard(payload),
  });
  return { tokenStatus, feed };
}

async function watchOutbox({ config, dataSource, metrics, logger }: SharedServices): Promise<void> {
  const outbox = new Outbox(dataSource);
  metrics.observeOutbox(() => outbox.counts());
  if (config.upstream) return;
  const { pending } = await outbox.counts();
  if (pending > 0) logger.warn({ pending }, 'the upstream outbox holds revocations, but UPSTREAM_REVOCATION_URL is not set: they wait until it is');
}

function port(app: INestApplication): number {
  return ((app.getHttpServer() as Server).address() as AddressInfo).port;
}
