import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { INTERACTION_ID_HEADER, resolveInteractionId } from './interaction-id';
import { ProtocolError } from './protocol-error';
import { RENDERERS } from './renderers';

/**
 * The two ways a request can fail before any hook or route runs — a URL Fastify cannot decode, or
 * bytes Node cannot parse as HTTP — still answer in the contract's shape with an interaction id and
 * `no-store` (CONTRACT §3), instead of Fastify's default body that echoes the input.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { id } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
  const problem = ProtocolError.invalidRequest('malformed request', error.code);
  reply
    .status(problem.status)
    .headers({ [INTERACTION_ID_HEADER]: id, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' })
    .send(JSON.stringify(RENDERERS.rfc7009(problem)));
}

/**
 * Bytes Node cannot parse as HTTP (or that never finish arriving) have no Fastify request, so no
 * hook sees them: `answered` lets the caller count and log them like any other answer.
 */
export function clientErrorHandlerFor(answered: (status: number, interactionId: string) => void) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const interactionId = randomUUID();
    answerOnSocket(socket, status, interactionId);
    answered(status, interactionId);
    socket.destroy(error);
  };
}

function answerOnSocket(socket: Socket, status: number, interactionId: string): void {
  const body = JSON.stringify(
    RENDERERS.rfc7009(new ProtocolError(status, 'invalid_request', status === 408 ? 'request timeout' : 'malformed request')),
  );
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `${INTERACTION_ID_HEADER}: ${interactionId}\r\ncache-control: no-store\r\nconnection: close\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}
