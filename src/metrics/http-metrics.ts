import type { FastifyInstance } from 'fastify';
import { profileLabel } from '../protocol/profile-label';
import { requestContext } from '../protocol/request-context';
import type { Metrics } from './metrics';

/**
 * docs/api.md §10: every public answer counted by profile and numeric status, and timed, in
 * `onResponse` (after the last byte), so errors from any stage — 404, 405, 413, 429, 5xx — count
 * too. The label is the profile of the route the router matched (whatever spelling of its path
 * the request used); requests that match none share `other`, so a scan of random paths cannot
 * grow the series. On the management port only the enforcement check is counted (`authz_check`,
 * docs/api.md §11.5): probes, scrapes and the admin API are not the API's traffic.
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: Metrics, surface: 'public' | 'management'): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const profile = profileLabel(request, surface);
    if (profile === undefined) return;
    metrics.httpRequests.inc({ profile, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ profile }, reply.elapsedTime / 1000);
    const rejected = requestContext(request.raw)?.rejectedHeader;
    if (rejected !== undefined) metrics.fapiHeaderRejections.inc({ header: rejected });
  });
}
