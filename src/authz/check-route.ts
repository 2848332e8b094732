import type { FastifyRequest } from 'fastify';

/** Its label in the metrics and the logs (docs/api.md §11.5). */
export const AUTHZ_CHECK_PROFILE = 'authz_check';

/** `/authz/check` and everything under it: Envoy's `path_prefix` and Traefik append the original path. */
export const AUTHZ_CHECK_PATH = '/authz/check';

/** Whether the router matched the check (the route pattern, as for every decision: docs/design.md). */
export function isAuthzCheck(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && (route === AUTHZ_CHECK_PATH || route.startsWith(AUTHZ_CHECK_PATH + '/'));
}

/** The raw request target is the check's (before routing, for what fails before a route is known). */
export function isAuthzCheckUrl(url: string | undefined): boolean {
  return url !== undefined && (url === AUTHZ_CHECK_PATH || url.startsWith(AUTHZ_CHECK_PATH + '/') || url.startsWith(AUTHZ_CHECK_PATH + '?'));
}
