import type { FastifyInstance } from 'fastify';
import type { TrustedProxies } from '../client-auth/mtls';
import { requestContext } from '../protocol/request-context';
import { UNKNOWN_SOURCE, type Throttle } from './throttle';

/**
 * The per-IP budget as the second step of every public request, right after the interaction id:
 * before body parsing, routing to a controller, the database or any signature check (docs/api.md §7).
 * Behind a trusted proxy the address is the right-most untrusted X-Forwarded-For hop (docs/api.md §5).
 */
export function installIpThrottle(fastify: FastifyInstance, throttle: Throttle, proxies: TrustedProxies): void {
  fastify.addHook('onRequest', async (request) => {
    // A connection reset by its client has no peer address any more, though its requests are
    // still served: they share one budget rather than none.
    const address = proxies.sourceAddress(request.raw.socket.remoteAddress, request.headers['x-forwarded-for']) ?? UNKNOWN_SOURCE;
    const context = requestContext(request.raw);
    if (context) context.sourceAddress = address;
    await throttle.ip(address);
  });
}
