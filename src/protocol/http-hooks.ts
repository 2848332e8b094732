import type { FastifyInstance } from 'fastify';
import { parseForm } from './form';
import { INTERACTION_ID_HEADER, resolveInteractionId } from './interaction-id';
import { ProtocolError } from './protocol-error';
import { profileForUrl } from './profiles';
import { setRequestContext } from './request-context';

/** CONTRACT §2: a revocation body over 16 KiB is refused with 413. */
export const PUBLIC_BODY_LIMIT = 16 * 1024;

/**
 * The first step of every request, before routing, parsing or any guard (CONTRACT §3): settle the
 * interaction id and the headers every response carries, so even a 404 or a 413 has them.
 */
export function installResponseHeaders(fastify: FastifyInstance, surface: 'public' | 'management', onRejectedId?: () => void): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const { id, rejected } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
    setRequestContext(request.raw, { interactionId: id, surface, profile: profileForUrl(request.url) });
    reply.header(INTERACTION_ID_HEADER, id).header('cache-control', 'no-store');
    if (rejected) {
      onRejectedId?.();
      throw ProtocolError.invalidRequest(`${INTERACTION_ID_HEADER} must be a UUID`);
    }
  });
}

/** The public port speaks forms only: any other media type is `invalid_request` (RFC 7009 §2.1). */
export function acceptFormsOnly(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: PUBLIC_BODY_LIMIT },
    (_request, body, done) => done(null, parseForm(body as string)),
  );
}
