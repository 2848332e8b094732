import { exportJWK, generateKeyPair } from 'jose';
import { basic, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { publishedKeyFor } from '../support/signing-jwks';
import { verifyWithOpenSsl } from '../support/verify-jws';

const RS = { authorization: basic('rs', 'rs-secret-value') };
const JWT = 'application/token-introspection+jwt';

function decode(jws: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = jws
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, claims };
}

/**
 * docs/api.md §11.2, RFC 9701: a resource server that asks for `application/token-introspection+jwt`
 * gets the answer as a JWT signed with the gateway's key (§13), checked here by OpenSSL against
 * what /jwks.json publishes, not by the library that signed it.
 */
describe.each([
  ['the generated key (ES256)', {}],
  ['a configured PS256 key', { alg: 'PS256' }],
])('signed introspection answers, %s', (_name, keySpec) => {
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    const env: Record<string, string> = { ISSUER: 'https://rev.bank.example' };
    if ('alg' in keySpec) {
      const { privateKey } = await generateKeyPair('PS256', { extractable: true, modulusLength: 2048 });
      env.SIGNING_KEY = JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'PS256', kid: 'rotation-2026' });
    }
    gw = await startTestGateway(env);
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    token = newToken();
    const tokens = [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g-1', subject: 'psu-1', scope: 'accounts', expires_at: IN_A_YEAR }];
    expect((await gw.admin('POST', '/admin/tokens', { tokens })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  it('an active token: a JWS typed token-introspection+jwt, addressed to the caller, holding the JSON answer', async () => {
    const json = await (await gw.post('/token/introspect', { token }, RS)).json();
    const before = Math.floor(Date.now() / 1000);
    const response = await gw.post('/token/introspect', { token }, { ...RS, accept: JWT });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toMatch(/accept/i);
    const jws = await response.text();
    const { header, claims } = decode(jws);
    const key = await publishedKeyFor(gw.publicUrl, jws);
    expect(header).toEqual({ alg: key.alg, kid: key.kid, typ: 'token-introspection+jwt' });
    if ('alg' in keySpec) expect(header).toMatchObject({ alg: 'PS256', kid: 'rotation-2026' });
    expect(await verifyWithOpenSsl(jws, key)).toBe(true);
    expect(claims).toEqual({ iss: 'https://rev.bank.example', aud: 'rs', iat: expect.any(Number), token_introspection: json });
    expect(claims.iat as number).toBeGreaterThanOrEqual(before);
    expect(claims).not.toHaveProperty('exp');
    // The same JWS with its claims changed no longer verifies.
    const [h, , s] = jws.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, aud: 'other' })).toString('base64url')}.${s}`;
    expect(await verifyWithOpenSsl(forged, key)).toBe(false);
  });

  it('an inactive token is signed too: token_introspection is exactly {"active":false}', async () => {
    const response = await gw.post('/token/introspect', { token: newToken() }, { ...RS, accept: JWT });
    const jws = await response.text();
    expect(await verifyWithOpenSsl(jws, await publishedKeyFor(gw.publicUrl, jws))).toBe(true);
    expect(decode(jws).claims.token_introspection).toStrictEqual({ active: false });
  });

  it.each([
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    [`${JWT};q=0.5, application/json`, 'application/json'],
    [`application/json;q=0.5, ${JWT}`, JWT],
    ['text/html', 'application/json'],
  ])('Accept %j → %s (never 406)', async (accept, type) => {
    const response = await gw.post('/token/introspect', { token }, { ...RS, accept });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')!.split(';')[0]).toBe(type);
  });

  it('errors stay in the rfc7009 JSON shape when a JWT is asked for', async () => {
    const response = await gw.post('/token/introspect', { token }, { authorization: basic('rs', 'wrong'), accept: JWT });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
