import { Catch, HttpException, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isDataException, isTransientDatabaseError } from '../database/db-errors';
import { ProtocolError } from './protocol-error';
import { PROFILE_ROWS } from './profiles';
import { requestContext } from './request-context';

/**
 * The single place where anything thrown while serving a request becomes a response: protocol
 * errors as their profile renders them, framework and parser errors as `invalid_request`, a lost
 * database as 503, and everything unexpected as a bare `server_error` (detail to the log only).
 */
@Catch()
export class ProtocolErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const context = requestContext(request.raw);
    // Node already answered on the socket (408: the body stalled) and closed it; what fails now
    // is the read it cut short. The request's one line says 408.
    if (context?.answeredOnSocket !== undefined) return;
    const error = classify(exception);
    // docs/api.md §2: an unknown route (no profile matched) or method is answered in the
    // rfc7009 shape whatever the path; anything else in the shape of the matched route's profile.
    const profile = (error.code !== 'method_not_allowed' && context?.profile) || 'rfc7009';

    if (error.status >= 500) {
      this.logger.error(
        { interaction_id: context?.interactionId, profile, status: error.status, detail: error.detail, err: describe(exception) },
        // The cause; the request's own line ("request failed") follows from installRequestLog.
        'server-side error',
      );
    } else if (error.detail) {
      this.logger.warn(
        { interaction_id: context?.interactionId, profile, status: error.status, client_auth_id: error.clientAuthId, detail: error.detail },
        error.status === 401 ? 'client authentication failed' : 'request rejected',
      );
    }
    if (reply.sent) return;
    reply.headers(error.headers).header('content-type', 'application/json; charset=utf-8');
    reply.status(error.status).send(JSON.stringify(PROFILE_ROWS[profile].errors.render(error)));
  }
}

function classify(exception: unknown): ProtocolError {
  if (exception instanceof ProtocolError) return exception;
  // The router found no route (answered in onRequest by refuseUnknownRoutes; Nest's own handler
  // is the backstop). A path served with other methods has 405 routes of its own.
  if (exception instanceof NotFoundException) return ProtocolError.notFound();
  if (exception instanceof HttpException) return fromHttpStatus(exception.getStatus(), exception);
  const raw = exception as { statusCode?: unknown };
  if (typeof raw.statusCode === 'number' && raw.statusCode >= 400 && raw.statusCode < 500) {
    return fromHttpStatus(raw.statusCode, exception);
  }
  if (isTransientDatabaseError(exception)) return ProtocolError.temporarilyUnavailable(describe(exception));
  // Validation should have caught it; if a value still cannot be stored, it is the caller's value.
  if (isDataException(exception)) return ProtocolError.invalidRequest('a value is malformed or out of range', describe(exception));
  return ProtocolError.serverError(describe(exception));
}

/**
 * Framework errors (Fastify's parser and limit errors arrive as HttpException with the
 * FastifyError as cause): 413 stays 413, every other client error is `invalid_request`.
 */
function fromHttpStatus(status: number, exception: unknown): ProtocolError {
  const detail = describe(exception);
  if (status === 413) return ProtocolError.transport(413, 'request body is too large', { detail });
  if (status === 415) return ProtocolError.invalidRequest('unsupported content type', detail);
  if (status >= 500) return ProtocolError.serverError(detail);
  const cause = exception instanceof Error ? exception.cause : undefined;
  const fromFramework = cause instanceof Error || !(exception instanceof HttpException);
  return ProtocolError.invalidRequest(fromFramework ? 'malformed request' : publicMessage(exception), detail);
}

/** Validation messages name fields and rules, never values: safe to return. */
function publicMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const message = response.message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return 'invalid request';
}

/** Error name, code and message only: driver errors may carry parameters, which may be secrets. */
function describe(exception: unknown): string {
  if (exception instanceof Error) {
    const code = (exception as { code?: unknown }).code;
    return `${exception.name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}: ${exception.message}`;
  }
  return String(exception);
}
