import { RequestMethod, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/config';
import { requestContext } from '../protocol/request-context';

/**
 * Paths pino removes from every line, whatever logs them: credentials and tokens must never reach
 * a log (CONTRACT §10). Request lines only carry the fields below anyway; this is the backstop.
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
  'headers.authorization',
  'headers.cookie',
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

/** One JSON line per request: who, what profile, which status, how long — never headers or bodies. */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      logger,
      quietReqLogger: true,
      customSuccessMessage: () => 'request completed',
      customErrorMessage: () => 'request failed',
      // pino-http would attach a synthetic "failed with status code" error and its stack; the
      // exception filter already logged the real cause, without a stack or any request data.
      customErrorObject: (_req, _res, _error, value: Record<string, unknown>) => ({ ...value, err: undefined }),
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      serializers: {
        res: () => undefined,
        req: (req: IncomingMessage) => ({ method: req.method, path: (req.url ?? '').split('?', 1)[0] }),
      },
      // pino-http asks once when the request starts and once when it ends; the fields are only
      // known (and only wanted) at the end, on the one line per request.
      customProps: (req: IncomingMessage, res: ServerResponse) => {
        const context = res.headersSent ? requestContext(req) : undefined;
        if (!context) return {};
        return {
          interaction_id: context.interactionId,
          profile: context.surface === 'public' ? context.profile : undefined,
          tenant: context.tenant,
          client_id: context.clientId,
          status: res.statusCode,
        };
      },
      customAttributeKeys: { responseTime: 'duration_ms' },
    },
  });
}
