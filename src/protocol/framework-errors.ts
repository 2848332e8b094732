import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isAuthzCheckUrl } from '../authz/check-route';
import { notActive } from '../authz/not-active';
import { INTERACTION_ID_HEADER, resolveInteractionId } from './interaction-id';
import { ProtocolError, type TransportStatus } from './protocol-error';
import { ERROR_SHAPES } from './renderers';
import { requestStillArriving, type RequestContext } from './request-context';

/**
 * A URL Fastify cannot decode (a bad percent escape, a parameter past maxParamLength) fails
 * before any hook or route runs: it is still answered in the contract's shape with an interaction
 * id and `no-store` (instead of Fastify's default body, which echoes the input), and `answered`
 * counts and logs it like any other answer.
 */
export function frameworkErrorsFor(answered: SocketAnswered, surface: 'public' | 'management') {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const { id } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
    // docs/api.md §11.5: the enforcement check never answers 400. A path under it that cannot be
    // decoded holds no readable request: the token does not stand.
    const check = surface === 'management' && isAuthzCheckUrl(request.raw.url);
    const problem = check ? notActive(error.code) : ProtocolError.invalidRequest('malformed request', error.code);
    if (check) reply.headers(problem.headers);
    reply
      .status(problem.status)
      .headers({ [INTERACTION_ID_HEADER]: id, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' })
      .send(JSON.stringify(ERROR_SHAPES.rfc7009.render(problem)));
    answered(problem.status, id);
  };
}

/**
 * Answers written on the socket, where Node (not Fastify) handles the request: `inFlight` is the
 * request the connection was busy with, if its headers had arrived (its log line then tells the
 * answer); otherwise no hook saw it, and the caller counts and logs it.
 */
export type SocketAnswered = (status: number, interactionId: string, inFlight?: RequestContext) => void;

/**
 * Bytes Node cannot parse as HTTP, or a request whose body never finishes arriving (408 past the
 * request timeout). A request whose headers had arrived already has its interaction id: the 408
 * carries that one, so its answer and its log line tell the same id.
 */
export function clientErrorHandlerFor(answered: SocketAnswered) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status: TransportStatus = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const inFlight = status === 408 ? requestStillArriving(socket) : undefined;
    const interactionId = inFlight?.interactionId ?? randomUUID();
    if (inFlight) inFlight.answeredOnSocket = status;
    const problem = ProtocolError.transport(status, status === 408 ? 'request timeout' : 'malformed request');
    answerOnSocket(socket, problem, interactionId);
    answered(status, interactionId, inFlight);
    socket.destroy(error);
  };
}

/**
 * CONNECT (RFC 9110 §9.3.6) asks a proxy for a tunnel; Node hands it to the server's `connect`
 * event, never to Fastify. This is no proxy: 405 with an empty `Allow` (no resource is the
 * target of an authority-form request), in the contract's shape, with an interaction id.
 */
export function connectHandlerFor(answered: SocketAnswered) {
  return (request: IncomingMessage, socket: Duplex): void => {
    const { id } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
    const problem = new ProtocolError('method_not_allowed', 'CONNECT is not served', { headers: { allow: '' } });
    answerOnSocket(socket, problem, id);
    answered(405, id);
    socket.end();
  };
}

/**
 * An `Expect` other than `100-continue`: Node would answer a bare 417. RFC 9110 §10.1.1 lets the
 * server answer 417 (Expectation Failed); it does, in the contract's shape, with an interaction id.
 */
export function expectationHandlerFor(answered: SocketAnswered) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const { id } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
    const body = JSON.stringify(ERROR_SHAPES.rfc7009.render(ProtocolError.transport(417, 'the expectation is not supported')));
    response.writeHead(417, {
      [INTERACTION_ID_HEADER]: id,
      'cache-control': 'no-store',
      connection: 'close',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
    answered(417, id);
  };
}

function answerOnSocket(socket: Duplex, problem: ProtocolError, interactionId: string): void {
  const body = JSON.stringify(ERROR_SHAPES.rfc7009.render(problem));
  const extra = Object.entries(problem.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `${INTERACTION_ID_HEADER}: ${interactionId}\r\ncache-control: no-store\r\nconnection: close\r\n${extra}` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}
