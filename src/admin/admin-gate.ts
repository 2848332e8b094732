import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { ProtocolError } from '../protocol/protocol-error';

/**
 * Admin bodies are small, except a token registration: 10,000 tokens of about 1.5 KiB each. Its
 * bound is also a bound on the main thread's time: scanning and parsing 16 MiB of JSON is about
 * 0.1 s in one turn of the event loop (64 MiB was 1-3 s, stalling the public port); larger tokens
 * go in smaller calls.
 */
export const ADMIN_BODY_LIMIT = 128 * 1024;
export const TOKEN_REGISTRATION_BODY_LIMIT = 16 * 1024 * 1024;

/** Admin routes are those the controllers mount under /admin (the route pattern, as registered). */
function isAdminRoute(route: RouteOptions): boolean {
  return route.url === '/admin' || route.url.startsWith('/admin/');
}

/**
 * docs/api.md §9: without ADMIN_API_TOKEN the admin API does not exist
 * (404); otherwise a matching bearer token is required (401).
 *
 * The gate is a hook of each admin route itself, attached as the route is registered: whatever
 * spelling of the path the router matched (`/%61dmin/…`, `http://host/admin/…`), the request
 * goes through it. It runs in `onRequest`, before the body is read: an unauthenticated caller
 * gets neither 64 MiB parsed nor anything learnt from a 400. Each admin route also gets its body
 * limit here: only token registration takes a large body.
 */
export function installAdminGate(fastify: FastifyInstance, adminApiToken: string | undefined): void {
  const expected = adminApiToken ? digest(adminApiToken) : undefined;
  const gate: onRequestAsyncHookHandler = async (request: FastifyRequest) => {
    if (!expected) throw ProtocolError.notFound();
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    // Compared as SHA-256 digests: constant time, whatever the lengths.
    if (presented && timingSafeEqual(digest(presented), expected)) return;
    throw new ProtocolError('invalid_client', 'admin authentication failed', {
      detail: presented ? 'wrong admin bearer token' : 'no admin bearer token',
      headers: { 'www-authenticate': 'Bearer realm="admin"' },
    });
  };
  fastify.addHook('onRoute', (route) => {
    if (!isAdminRoute(route)) return;
    route.onRequest = [...[route.onRequest ?? []].flat(), gate];
    const registration = route.url === '/admin/tokens' && [route.method].flat().includes('POST');
    route.bodyLimit = registration ? TOKEN_REGISTRATION_BODY_LIMIT : ADMIN_BODY_LIMIT;
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
