import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { INTERACTION_ID_HEADER } from '../protocol/interaction-id';
import { profileLabel } from '../protocol/profile-label';
import { requestAnswered, requestContext } from '../protocol/request-context';

/**
 * Paths pino removes from every line, whatever logs them: credentials and tokens must never reach
 * a log (docs/api.md §10). Request lines only carry the fields below anyway; this is the backstop.
 */
const REDACT = [
  'token',
  'client_secret',
  'client_assertion',
  'secret',
  'refresh_token',
  '*.token',
  '*.client_secret',
  '*.client_assertion',
  '*.secret',
  '*.refresh_token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-ssl-client-cert"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-ssl-client-cert"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-ssl-client-cert"]',
];

/**
 * The process's one logger: JSON lines on stdout (or `destination`), redacted; with
 * LOG_FORMAT=pretty the same lines made readable by pino-pretty, synchronously, on stdout.
 */
export function createRootLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'fapi-revocation-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  const stream = destination ?? (config.logFormat === 'pretty' ? pretty({ sync: true, translateTime: 'SYS:standard' }) : undefined);
  return stream ? pino(options, stream) : pino(options);
}

/**
 * nestjs-pino gives Nest's own logger the root logger. Its per-request middleware (pino-http) is
 * not mounted on any route: Nest middleware runs after Fastify's first hooks, so a request refused
 * there (a bad interaction id, a throttled address) would have no line from it, and nothing here
 * logs through a request-bound child. `installRequestLog` writes the one line per request instead.
 * Unmounted, a request costs no child logger and no async-context store (with the unredacted
 * request line below: 0.72 → 0.40 ms of the gateway's CPU per revocation, `npm run bench`).
 */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({ forRoutes: [], pinoHttp: { logger, autoLogging: false, quietReqLogger: true } });
}

/** Paths are logged, never query strings; a path scan cannot write kilobytes per line. */
const MAX_LOGGED_PATH = 256;

/**
 * docs/api.md §10: one JSON line per request, whatever stage answered it, with who (tenant, client),
 * what (profile: the route's, or `other`, as in the metrics), the status and the duration; never
 * headers, the query string or the body. A 5xx is `request failed` at error level.
 */
export function installRequestLog(fastify: FastifyInstance, root: Logger, surface: 'public' | 'management'): void {
  // Every field of this line is one the gateway built: validated values (interaction id, tenant,
  // client id), closed sets (profile, method, status) and the path without its query string.
  // None sits under a redacted key (`*.token` and the like), so the redaction walk, paid on every
  // line, could never change this one and is left out of its hot path.
  const logger = root.child({}, { redact: { paths: [] } });
  const who = (request: FastifyRequest, reply: FastifyReply) => {
    const context = requestContext(request.raw);
    return {
      interaction_id: context?.interactionId ?? reply.getHeader(INTERACTION_ID_HEADER),
      profile: profileLabel(request, surface),
      tenant: context?.tenant,
      client_id: context?.clientId,
    };
  };
  // The path as sent (it may be percent-encoded or absolute-form) and the route it matched.
  const what = (request: FastifyRequest) => ({
    method: request.method,
    path: request.url.split('?', 1)[0].slice(0, MAX_LOGGED_PATH),
    route: request.routeOptions.url,
  });
  fastify.addHook('onResponse', async (request, reply) => {
    requestAnswered(request.raw);
    const status = reply.statusCode;
    const line = {
      ...who(request, reply),
      status,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      req: what(request),
    };
    if (status >= 500) logger.error(line, 'request failed');
    else logger.info(line, 'request completed');
  });
  // A client that goes away before its answer (closed or half-closed its connection: Node's HTTP
  // server then drops the request) gets no answer, but still a line; what the request did up to
  // then (a revocation, with its audit row) stands. Fastify's onRequestAbort misses a request
  // whose body had fully arrived, so the response's own `close` tells.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      requestAnswered(request.raw);
      // Node answered it on the socket (a body that stalled past the request timeout: 408).
      const status = requestContext(request.raw)?.answeredOnSocket;
      if (status !== undefined) logger.info({ ...who(request, reply), status, req: what(request) }, 'request completed');
      else logger.info({ ...who(request, reply), req: what(request) }, 'request aborted');
    });
    done();
  });
}
