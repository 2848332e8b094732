import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TlsOptions as SecureServerOptions } from 'node:tls';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { installAdminGate } from './admin/admin-gate';
import { AdminModule } from './admin/admin.module';
import { ClientCache } from './client-auth/client-cache';
import { TrustedProxies } from './client-auth/mtls';
import type { AppConfig } from './config/config';
import { CoreModule, type SharedServices } from './core.module';
import { openDatabase, type Database } from './database/database';
import { METADATA_PATH } from './discovery/metadata.controller';
import { OPENAPI_PATH } from './discovery/openapi';
import { HealthModule } from './health/health.module';
import { Readiness } from './health/readiness';
import { createRootLogger, installRequestLog, loggingModule } from './logging/logging';
import { Metrics } from './metrics/metrics';
import { installHttpMetrics } from './metrics/http-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { INTERACTION_ID_HEADER } from './protocol/interaction-id';
import { ProtocolErrorFilter, type RouteMethods } from './protocol/error-filter';
import { clientErrorHandlerFor, frameworkErrors } from './protocol/framework-errors';
import { acceptFormsOnly, installResponseHeaders, PUBLIC_BODY_LIMIT } from './protocol/http-hooks';
import { PROFILE_ROUTES } from './protocol/profiles';
import { validationPipe } from './protocol/validation';
import { RevocationModule } from './revocation/revocation.module';
import { installIpThrottle } from './throttling/ip-throttle';
import { Outbox } from './upstream/outbox';
import { Throttle } from './throttling/throttle';

/** Admin bulk registration takes up to 10,000 tokens of up to 8 KiB each. */
const MANAGEMENT_BODY_LIMIT = 64 * 1024 * 1024;

@Module({})
class PublicApplication {
  static register(shared: SharedServices): DynamicModule {
    return {
      module: PublicApplication,
      imports: [CoreModule.register(shared), loggingModule(shared.logger), RevocationModule.register(shared.config)],
    };
  }
}

@Module({})
class ManagementApplication {
  static register(shared: SharedServices): DynamicModule {
    return {
      module: ManagementApplication,
      imports: [CoreModule.register(shared), loggingModule(shared.logger), HealthModule, AdminModule],
      controllers: [MetricsController],
    };
  }
}

export interface Gateway {
  readonly publicUrl: string;
  readonly managementUrl: string;
  readonly database: Database;
  readonly readiness: Readiness;
  /** Stops accepting, lets in-flight requests finish, closes the pool (and the embedded database). */
  close(): Promise<void>;
}

/**
 * Two Nest applications over one set of shared services: the public API for TPPs on PORT and the
 * management API (admin, health, metrics) on MANAGEMENT_PORT. Separate route tables mean an admin
 * route cannot exist on the public port, whatever a path or a proxy does.
 */
export async function startGateway(config: AppConfig, logger: Logger = createRootLogger(config)): Promise<Gateway> {
  const database = await openDatabase(config, logger);
  const shared: SharedServices = { config, dataSource: database.dataSource, logger, readiness: new Readiness(),
    metrics: new Metrics(),
    clientCache: new ClientCache(config.clientCacheTtlMs),
  };
  const apps: INestApplication[] = [];
  try {
    await watchOutbox(shared);
    const publicRoutes: RouteMethods = new Map([
      [METADATA_PATH, ['GET', 'HEAD']],
      [OPENAPI_PATH, ['GET', 'HEAD']],
      ...[...config.profiles].map((profile): [string, string[]] => [PROFILE_ROUTES[profile], ['POST']]),
    ]);
    const publicApp = await createApplication(PublicApplication.register(shared), 'public', shared, publicRoutes, tlsOptions(config));
    acceptFormsOnly(publicApp.getHttpAdapter().getInstance());
    installIpThrottle(publicApp.getHttpAdapter().getInstance(), publicApp.get(Throttle), publicApp.get(TrustedProxies));
    apps.push(publicApp);

    const managementApp = await createApplication(ManagementApplication.register(shared), 'management', shared, new Map());
    installAdminGate(managementApp.getHttpAdapter().getInstance(), config.adminApiToken);
    managementApp.useGlobalPipes(validationPipe());
    apps.push(managementApp);

    await publicApp.listen(config.port, config.host);
    await managementApp.listen(config.managementPort, config.host);
    logger.info({ port: port(publicApp), management_port: port(managementApp), embedded: database.embedded }, 'gateway listening');

    return {
      publicUrl: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port(publicApp)}`,
      managementUrl: `http://127.0.0.1:${port(managementApp)}`,
      database,
      readiness: shared.readiness,
      async close() {
        // CONTRACT §1: readiness says 503 at once; the public port stops taking requests and lets
        // in-flight ones finish; the management port stays up meanwhile, so probes keep getting
        // that 503 rather than a refused connection; then the pools close.
        shared.readiness.draining = true;
        await publicApp.close();
        await managementApp.close();
        await database.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(apps.map((app) => app.close()));
    await database.close();
    throw error;
  }
}

async function createApplication(
  module: DynamicModule,
  surface: 'public' | 'management',
  { logger, readiness, metrics }: SharedServices,
  routes: RouteMethods,
  tls?: SecureServerOptions,
): Promise<NestFastifyApplication> {
  const bodyLimit = surface === 'public' ? PUBLIC_BODY_LIMIT : MANAGEMENT_BODY_LIMIT;
  const adapter = new FastifyAdapter({
    ...(surface === 'public' && tls ? { https: tls } : {}),
    bodyLimit,
    // A client gets 30 s to send its request: a slow drip must not hold a connection forever.
    requestTimeout: 30000,
    // While closing, a request on a connection already open is still served (and told
    // `Connection: close`); Fastify's own 503 would lack the contract's headers and body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    frameworkErrors,
    clientErrorHandler: clientErrorHandlerFor((status, interactionId) => {
      if (surface === 'public') metrics.httpRequests.inc({ profile: 'other', status: String(status) });
      logger.info({ interaction_id: interactionId, profile: surface === 'public' ? 'other' : undefined, status }, 'request completed');
    }),
  });
  installRequestLog(adapter.getInstance(), logger, surface);
  if (surface === 'public') {
    installResponseHeaders(adapter.getInstance(), surface, () => metrics.fapiHeaderRejections.inc({ header: INTERACTION_ID_HEADER }));
    installHttpMetrics(adapter.getInstance(), metrics);
  } else {
    installResponseHeaders(adapter.getInstance(), surface);
  }
  // While draining, every answer closes its connection. `forceCloseConnections: 'idle'` only
  // closes connections idle when close() starts; one answered later would otherwise keep the
  // server open until its keep-alive timeout, past SHUTDOWN_GRACE_MS.
  adapter.getInstance().addHook('onSend', async (_request, reply, payload) => {
    if (readiness.draining) reply.header('connection', 'close');
    return payload;
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new ProtocolErrorFilter(logger, routes));
  return app;
}

/**
 * The public listener terminates TLS itself when TLS_CERT_FILE/TLS_KEY_FILE are set. It asks every
 * client for a certificate but lets the handshake succeed without one (or with a self-signed one):
 * which certificate a client needs is decided per client by its registered method (RFC 8705), and
 * `authorized` tells whether the chain verified against TLS_CA_FILE.
 */
function tlsOptions(config: AppConfig): SecureServerOptions | undefined {
  if (!config.tls) return undefined;
  return {
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
    // No TLS_CA_FILE: no trust anchors at all (Node would otherwise use its public root store).
    ca: config.tls.caFile ? readFileSync(config.tls.caFile) : [],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

/**
 * revgw_outbox_pending counts the outbox whether or not propagation is on, and a start without
 * UPSTREAM_REVOCATION_URL over a non-empty outbox says so: those revocations wait for it.
 */
async function watchOutbox({ config, dataSource, metrics, logger }: SharedServices): Promise<void> {
  const outbox = new Outbox(dataSource);
  metrics.observeOutbox(() => outbox.counts());
  if (config.upstream) return;
  const { pending } = await outbox.counts();
  if (pending > 0) logger.warn({ pending }, 'the upstream outbox holds revocations, but UPSTREAM_REVOCATION_URL is not set: they wait until it is');
}

function port(app: INestApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}
