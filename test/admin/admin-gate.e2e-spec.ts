import { ADMIN_TOKEN, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { matchingSpellings, nonMatchingSpellings, sendTarget } from '../support/request-targets';

/**
 * The admin gate is decided on the route the router matched, never on the raw URL: the router
 * percent-decodes the path and strips an absolute-form prefix before it matches, so a test of
 * the raw URL let `PUT /%61dmin/clients/x` and `http://x/admin/…` through without credentials.
 * Every admin route, every spelling, on both ports; and nothing changes.
 */
const victimToken = newToken('victim');
const ROUTES: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'PUT', path: '/admin/clients/intruder', body: { auth_method: 'none' } },
  { method: 'PUT', path: '/admin/clients/tpp', body: { auth_method: 'none' } },
  { method: 'DELETE', path: '/admin/clients/tpp' },
  { method: 'PUT', path: '/admin/tenants/default', body: { issuer: 'https://evil.example' } },
  {
    method: 'POST',
    path: '/admin/tokens',
    body: { tokens: [{ token: 'planted', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] },
  },
  { method: 'POST', path: '/admin/revocations', body: { client_id: 'tpp' } },
  { method: 'POST', path: '/admin/tokens/status', body: { token: victimToken } },
  { method: 'GET', path: '/admin/revocation-events' },
  // A method the route does not serve: its 405 route is an admin route too.
  { method: 'PATCH', path: '/admin/tokens' },
];

function send(baseUrl: string, method: string, target: string, body: unknown, headers: Record<string, string> = {}) {
  return sendTarget(baseUrl, method, target, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
}

describe('admin gate: decided on the matched route, whatever the spelling of the path', () => {
  describe('with ADMIN_API_TOKEN set', () => {
    let gw: TestGateway;

    beforeAll(async () => {
      gw = await startTestGateway();
      await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      await gw.admin('POST', '/admin/tokens', {
        tokens: [{ token: victimToken, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }],
      });
    });
    afterAll(() => gw.stop());

    it.each(ROUTES)('$method $path: 401 for every spelling that reaches the route, 404 for the rest', async ({ method, path, body }) => {
      for (const target of matchingSpellings(path)) {
        const answer = await send(gw.managementUrl, method, target, body);
        expect({ target, status: answer.status }).toEqual({ target, status: 401 });
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="admin"');
        expect(answer.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_client', error_description: 'admin authentication failed' });
        // A wrong token, or one in another scheme, fares no better.
        for (const authorization of [`Bearer ${ADMIN_TOKEN}x`, `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`]) {
          expect((await send(gw.managementUrl, method, target, body, { authorization })).status).toBe(401);
        }
      }
      for (const target of nonMatchingSpellings(path)) {
        expect({ target, status: (await send(gw.managementUrl, method, target, body)).status }).toEqual({ target, status: 404 });
      }
    });

    it('an encoded path with the right token is the same route (it works)', async () => {
      const answer = await send(gw.managementUrl, 'GET', '/%61dmin/revocation-events?limit=1', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(answer.status).toBe(200);
    });

    it('nothing was changed by the attempts', async () => {
      // The intruder client did not exist: this PUT creates it.
      expect((await gw.admin('PUT', '/admin/clients/intruder', { auth_method: 'none' })).status).toBe(201);
      const status = await gw.admin('POST', '/admin/tokens/status', { token: victimToken });
      expect(status.body).toMatchObject({ client_id: 'tpp', active: true });
      expect((await gw.admin('POST', '/admin/tokens/status', { token: 'planted' })).status).toBe(404);
      const [tenant] = await gw.database.dataSource.query(`SELECT issuer FROM tenants WHERE name = 'default'`);
      expect(tenant.issuer).toBeNull();
      const [client] = await gw.database.dataSource.query(`SELECT auth_method FROM clients WHERE tenant = 'default' AND client_id = 'tpp'`);
      expect(client.auth_method).toBe('client_secret_basic');
      expect((await gw.admin('GET', '/admin/revocation-events')).body.events).toEqual([]);
    });

    it('the public port has no admin route under any spelling', async () => {
      for (const { method, path, body } of ROUTES) {
        for (const target of [path, ...matchingSpellings(path)]) {
          const answer = await send(gw.publicUrl, method, target, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
          expect({ target, status: answer.status }).toEqual({ target, status: 404 });
        }
      }
    });
  });

  describe('with ADMIN_API_TOKEN unset', () => {
    let gw: TestGateway;

    beforeAll(async () => {
      gw = await startTestGateway({ ADMIN_API_TOKEN: '' });
    });
    afterAll(() => gw.stop());

    it.each(ROUTES)('$method $path: 404 for every spelling, with or without a bearer', async ({ method, path, body }) => {
      for (const target of [path, ...matchingSpellings(path), ...nonMatchingSpellings(path)]) {
        for (const headers of [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }] as Array<Record<string, string>>) {
          const answer = await send(gw.managementUrl, method, target, body, headers);
          expect({ target, status: answer.status }).toEqual({ target, status: 404 });
          expect(JSON.parse(answer.body).error).toBe('not_found');
        }
      }
    });

    it('nothing was stored', async () => {
      const [row] = await gw.database.dataSource.query(`SELECT (SELECT count(*) FROM clients)::int AS clients, (SELECT count(*) FROM tokens)::int AS tokens`);
      expect(row).toEqual({ clients: 0, tokens: 0 });
    });
  });
});
