import { METHODS } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ProtocolError } from './protocol-error';

/**
 * What the router decides, and nothing else: a request is classified by the route the router
 * matched (`request.routeOptions.url`), never by its raw URL, which may be percent-encoded
 * (`/%61dmin/…`) or in absolute form (`http://host/admin/…`) and still match a route.
 */

/**
 * A request that matches no route is answered 404 in `onRequest`, before its body is read or
 * parsed: a path scan costs nothing, and no body reaches a parser without a route that wants it.
 * Install after the hooks that must see every request (interaction id, IP throttle).
 */
export function refuseUnknownRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === undefined) throw ProtocolError.notFound();
  });
}

/**
 * RFC 9110 §15.5.6: a method the target resource does not serve is 405 with `Allow` listing the
 * ones it does. Each path a route serves gets a route for every other method, so the router
 * decides this too (encoded and absolute-form targets included). Every method Node's parser
 * knows is served this way except CONNECT, which never reaches routing (see framework-errors).
 *
 * Returns the step that adds those routes: call it once every real route is registered (after
 * Nest's `init()`), before the server listens.
 */
export function answerOtherMethods(fastify: FastifyInstance): () => void {
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !fastify.supportedMethods.includes(method)) fastify.addHttpMethod(method, { hasBody: true });
  }
  const served = new Map<string, Set<string>>();
  let adding = false;
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (adding) return;
    const methods = served.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    served.set(route.url, methods);
  });
  return () => {
    adding = true;
    for (const [url, methods] of served) {
      const others = fastify.supportedMethods.filter((method) => !methods.has(method));
      if (others.length === 0) continue;
      const allow = [...methods].sort().join(', ');
      fastify.route({
        method: others,
        url,
        // Before the body is read (after onRequest, so an admin path's gate still answers first).
        preParsing: async (request) => {
          throw new ProtocolError('method_not_allowed', `method ${request.method} is not allowed here`, { headers: { allow } });
        },
        handler: async () => undefined,
      });
    }
    adding = false;
  };
}
