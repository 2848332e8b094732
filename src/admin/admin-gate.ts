import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ProtocolError } from '../protocol/protocol-error';

const ADMIN_PATH = /^\/admin(\/|\?|$)/;

/**
 * CONTRACT §9: without ADMIN_API_TOKEN the admin API does not exist (404); otherwise a matching
 * bearer token is required (401). Checked in `onRequest`, before the body is read: an
 * unauthenticated caller must not get 64 MiB parsed, nor learn anything from a 400.
 */
export function installAdminGate(fastify: FastifyInstance, adminApiToken: string | undefined): void {
  const expected = adminApiToken ? digest(adminApiToken) : undefined;
  fastify.addHook('onRequest', async (request) => {
    if (!ADMIN_PATH.test(request.url)) return;
    if (!expected) throw ProtocolError.notFound();
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    // Compared as SHA-256 digests: constant time, whatever the lengths.
    if (presented && timingSafeEqual(digest(presented), expected)) return;
    throw new ProtocolError(401, 'invalid_client', 'admin authentication failed', {
      detail: presented ? 'wrong admin bearer token' : 'no admin bearer token',
      headers: { 'www-authenticate': 'Bearer realm="admin"' },
    });
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
