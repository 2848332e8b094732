import type { FastifyRequest } from 'fastify';
import { AUTHZ_CHECK_PROFILE, isAuthzCheck } from '../authz/check-route';
import { matchedProfile } from './profiles';

/**
 * The `profile` a request is counted and logged under (docs/api.md §10): on the public port the
 * matched route's profile, or `other`; on the management port `authz_check` for the enforcement
 * check, and nothing for probes, scrapes and the admin API, which are not counted.
 */
export function profileLabel(request: FastifyRequest, surface: 'public' | 'management'): string | undefined {
  if (surface === 'public') return matchedProfile(request) ?? 'other';
  return isAuthzCheck(request) ? AUTHZ_CHECK_PROFILE : undefined;
}
