import type { JsonWebKey } from 'node:crypto';

/** The gateway's `/jwks.json` as it is served. */
export async function fetchJwks(publicUrl: string): Promise<{ response: Response; keys: Array<JsonWebKey & { kid: string; alg: string; use: string }> }> {
  const response = await fetch(`${publicUrl}/jwks.json`);
  const { keys } = JSON.parse(await response.text()) as { keys: Array<JsonWebKey & { kid: string; alg: string; use: string }> };
  return { response, keys };
}

/** The published key a JWS names in its header's `kid`; throws when the set has none. */
export async function publishedKeyFor(publicUrl: string, jws: string): Promise<JsonWebKey & { kid: string; alg: string }> {
  const { kid } = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8')) as { kid: string };
  const key = (await fetchJwks(publicUrl)).keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`/jwks.json has no key ${kid}`);
  return key;
}
