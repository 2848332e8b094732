/** The wire contracts the gateway speaks (CONTRACT §2). One engine, one route and renderer each. */
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

/** The profile whose route `url` is (query string ignored), if any. */
export function routeProfile(url: string): ProfileName | undefined {
  return profileByRoute.get(url.split('?', 1)[0]);
}

/** The shape errors are rendered in: the route's profile, else `rfc7009`. */
export function profileForUrl(url: string): ProfileName {
  return routeProfile(url) ?? 'rfc7009';
}
