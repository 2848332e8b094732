import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installAdminGate } from '../admin/admin-gate';
import type { TrustedProxies } from '../client-auth/mtls';
import type { Readiness } from '../health/readiness';
import { installRequestLog } from '../logging/logging';
import { installHttpMetrics } from '../metrics/http-metrics';
import type { Metrics } from '../metrics/metrics';
import { installIpThrottle } from '../throttling/ip-throttle';
import type { Throttle } from '../throttling/throttle';
import { acceptFormsOnly, installResponseHeaders } from './http-hooks';
import { acceptBoundedJsonOnly } from './json-body';
import { answerOtherMethods, refuseUnknownRoutes } from './routing';

export type SurfaceSteps =
  | { readonly surface: 'public'; readonly throttle: Throttle; readonly proxies: TrustedProxies }
  | { readonly surface: 'management'; readonly adminApiToken: string | undefined };

export interface SharedSteps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
}

/**
 * Every request's steps before its route's handler, in the order they run — the one place that
 * decides the product's own order. Fastify runs hooks of one kind in the order they are added,
 * global before a route's own; what the framework adds while it is created (Nest's Fastify
 * adapter's hooks and its middleware runner, middie) was added earlier and runs first — none of it
 * answers a request or reads its body. Then:
 *
 *  1. Request log (`onRequest` abort watch, `onResponse` line): every request gets its one line,
 *     whichever later step answers it (docs/api.md §10).
 *  2. Interaction id, `no-store`, the Host check (docs/api.md §3): every answer from here on
 *     carries them.
 *  3. Metrics by profile and status (`onResponse`, so every answer counts): every public answer,
 *     and the management port's enforcement check.
 *  4. `Connection: close` on an answer while draining, or given before the body was read.
 *  5. Public: the per-IP budget (docs/api.md §7), before routing, parsing or any database work.
 *     Management: the admin gate, as a hook of each admin route (docs/api.md §9).
 *  6. 404 for a path no route matches, before any body is read.
 *  7. 405 for a method the path does not serve (each path's other methods are routes of their
 *     own, answered in `preParsing`).
 *  8. The body parser: forms only on the public port (RFC 7009 §2.1); bounded JSON on the
 *     management port.
 *  9. The route's handler: for a revocation, RevocationPipeline.revoke, whose steps are listed
 *     there in order; for the admin API, Nest's validation pipe and then the controller.
 *
 * Returns the step to run once every route is registered (after Nest's `init()`): the 405 routes.
 */
export function installRequestSteps(fastify: FastifyInstance, steps: SurfaceSteps, { logger, metrics, readiness }: SharedSteps): () => void {
  installRequestLog(fastify, logger, steps.surface);
  installResponseHeaders(fastify, steps.surface);
  installHttpMetrics(fastify, metrics, steps.surface);
  fastify.addHook('onSend', async (request, reply, payload) => {
    // `forceCloseConnections: 'idle'` only closes connections idle when close() starts; one
    // answered later would otherwise keep the server open until its keep-alive timeout, past
    // SHUTDOWN_GRACE_MS. An answer given before the body was read (a 401 from the admin gate, a
    // 404, a 405, a 413): Node would otherwise wait for the rest of the body, and a client that
    // never sends it would get a second, unasked-for 408 on the same connection.
    if (readiness.draining || !request.raw.complete) reply.header('connection', 'close');
    return payload;
  });
  if (steps.surface === 'public') installIpThrottle(fastify, steps.throttle, steps.proxies);
  else installAdminGate(fastify, steps.adminApiToken);
  refuseUnknownRoutes(fastify);
  const addOtherMethods = answerOtherMethods(fastify);
  if (steps.surface === 'public') acceptFormsOnly(fastify);
  else acceptBoundedJsonOnly(fastify);
  return addOtherMethods;
}
