import type { FastifyRequest } from 'fastify';

/** The wire contracts the gateway speaks (docs/api.md §2). One engine, one route and renderer each. */
export const PROFILE_NAMES = ['rfc7009', 'fapi', 'oam', 'idv1', 'cdr'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Audit-only pseudo-profile for admin bulk revocations. */
export type AuditProfile = ProfileName | 'admin';

export const PROFILE_ROUTES: Readonly<Record<ProfileName, string>> = {
  rfc7009: '/token/revoke',
  fapi: '/token/revocation',
  oam: '/oauth2/rest/token/revoke',
  idv1: '/api/id/v1/auth/token/revoke',
  cdr: '/arrangements/revoke',
};

const profileByRoute = new Map<string, ProfileName>(
  Object.entries(PROFILE_ROUTES).map(([profile, route]) => [route, profile as ProfileName]),
);

/**
 * The profile whose route the router matched for this request, if any. Never decided on the raw
 * URL: the router percent-decodes it and strips an absolute-form prefix (`http://host/…`) before
 * it matches, so `/token/%72evoke` is the rfc7009 route and must be labelled, shaped and
 * throttled as such.
 */
export function matchedProfile(request: FastifyRequest): ProfileName | undefined {
  const route = request.routeOptions.url;
  return route === undefined ? undefined : profileByRoute.get(route);
}
