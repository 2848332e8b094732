import { PROFILE_ROWS, REVOCATION_PROFILES } from '../../src/protocol/profiles';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { captureLogs } from '../support/log-capture';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

/**
 * docs/api.md §11.1: a client is a TPP (the default) or a resource server. A resource server proves
 * who it is like any client, but may not revoke: every revocation route answers it 401
 * `invalid_client`, nothing is revoked, and the log says why under the answer's client_auth_id.
 */
describe('client roles', () => {
  const { lines, logger } = captureLogs('info');
  let gw: TestGateway;
  let key: SigningKey;

  beforeAll(async () => {
    gw = await startTestGateway({ LOG_LEVEL: 'info' }, logger);
    key = await signingKey('ES256');
  });
  afterAll(() => gw.stop());

  describe('registration', () => {
    it('a client is a tpp unless it says otherwise, and the answer says which', async () => {
      const tpp = await gw.admin('PUT', '/admin/clients/tpp-default', { auth_method: 'client_secret_basic', secret: 'tpp-default-secret' });
      expect(tpp).toMatchObject({ status: 201, body: { client_id: 'tpp-default', role: 'tpp' } });
      const rs = await gw.admin('PUT', '/admin/clients/rs-basic', { auth_method: 'client_secret_basic', secret: 'rs-basic-secret', role: 'resource_server' });
      expect(rs).toMatchObject({ status: 201, body: { client_id: 'rs-basic', role: 'resource_server' } });
      expect(rs.body).not.toHaveProperty('secret');
    });

    it.each([
      ['an unknown role', 'gateway'],
      ['null', null],
      ['a number', 1],
    ])('refuses %s as role (400, nothing stored)', async (_what, role) => {
      const response = await gw.admin('PUT', '/admin/clients/bad-role', { auth_method: 'client_secret_basic', secret: 'bad-role-secret', role });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/role/) });
      expect((await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('bad-role', 'bad-role-secret') })).status).toBe(401);
    });

    it('refuses a public resource server (auth_method none): 400', async () => {
      const response = await gw.admin('PUT', '/admin/clients/rs-public', { auth_method: 'none', role: 'resource_server' });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toMatch(/resource_server/);
    });

    it('a PUT without role keeps the stored one: rotating a secret does not make a resource server a tpp', async () => {
      await gw.admin('PUT', '/admin/clients/rs-rotate', { auth_method: 'client_secret_basic', secret: 'rs-rotate-secret-1', role: 'resource_server' });
      const rotated = await gw.admin('PUT', '/admin/clients/rs-rotate', { auth_method: 'client_secret_basic', secret: 'rs-rotate-secret-2' });
      expect(rotated).toMatchObject({ status: 200, body: { client_id: 'rs-rotate', role: 'resource_server' } });
      expect((await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('rs-rotate', 'rs-rotate-secret-2') })).status).toBe(401);
      // Nor can that PUT turn it into a public client.
      const publicNow = await gw.admin('PUT', '/admin/clients/rs-rotate', { auth_method: 'none' });
      expect(publicNow.status).toBe(400);
      expect(publicNow.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/resource_server/) });
      expect((await gw.post('/token/revoke', { token: 'x', client_id: 'rs-rotate' })).status).toBe(401);
      // Said explicitly, the role changes.
      const tpp = await gw.admin('PUT', '/admin/clients/rs-rotate', { auth_method: 'client_secret_basic', secret: 'rs-rotate-secret-2', role: 'tpp' });
      expect(tpp.body.role).toBe('tpp');
      expect((await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('rs-rotate', 'rs-rotate-secret-2') })).status).toBe(200);
    });
  });

  describe('a resource server on the revocation routes', () => {
    const token = newToken('rs-owned');

    beforeAll(async () => {
      await gw.admin('PUT', '/admin/clients/rs-jwt', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, role: 'resource_server' });
      // A token registered to the resource server itself: even that it may not revoke.
      const registered = await gw.admin('POST', '/admin/tokens', {
        tokens: [{ token, token_type: 'access_token', client_id: 'rs-jwt', grant_id: 'g-rs', consent_id: 'c-rs', expires_at: IN_A_YEAR }],
      });
      expect(registered.status).toBe(201);
    });

    it.each(REVOCATION_PROFILES.map((name) => [name, PROFILE_ROWS[name].route]))(
      '%s (%s): 401 invalid_client in the profile shape, nothing revoked, the cause logged',
      async (name, route) => {
        const form = { token, cdr_arrangement_id: 'c-rs', ...assertionForm(await clientAssertion(key, 'rs-jwt', { aud: ISSUER + route })) };
        const seen = lines.length;
        const response = await gw.post(route, form);
        const cause = lines
          .slice(seen)
          .map((line) => JSON.parse(line))
          .find((entry) => entry.detail === 'client rs-jwt is a resource_server, which cannot call this endpoint');
        expect(response.status).toBe(401);
        expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
        const body = await json(response);
        // The answer any failed client authentication gets on this profile (here: an unknown client).
        const stranger = { ...form, ...assertionForm(await clientAssertion(key, 'nobody', { aud: ISSUER + route })) };
        const failed = await gw.post(route, stranger);
        expect(failed.status).toBe(401);
        const { client_auth_id: _a, ...rest } = body;
        const { client_auth_id: _b, ...expected } = await json(failed);
        expect(rest).toEqual(expected);
        const status = await gw.admin('POST', '/admin/tokens/status', { token });
        expect(status.body).toMatchObject({ active: true, revoked_at: null });
        expect(cause).toEqual(expect.objectContaining({ profile: name, status: 401, client_auth_id: expect.any(String) }));
        // The shapes that carry the id (rfc7009's) carry the logged one.
        if ('client_auth_id' in body) expect(body.client_auth_id).toBe(cause.client_auth_id);
      },
    );

    it('the same credentials work once the client is registered as a tpp again', async () => {
      await gw.admin('PUT', '/admin/clients/rs-jwt', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, role: 'tpp' });
      const form = { token, ...assertionForm(await clientAssertion(key, 'rs-jwt', { aud: ISSUER + '/token/revoke' })) };
      expect((await gw.post('/token/revoke', form)).status).toBe(200);
      expect((await gw.admin('POST', '/admin/tokens/status', { token })).body).toMatchObject({ active: false });
    });
  });

  describe('a tpp on /token/introspect', () => {
    it.each([
      ['client_secret_basic', 'tpp-default'],
      ['private_key_jwt', 'tpp-jwt'],
    ])('%s: 401 invalid_client in the rfc7009 shape, as any failed authentication, the cause logged', async (method, clientId) => {
      if (method === 'private_key_jwt')
        await gw.admin('PUT', `/admin/clients/${clientId}`, { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      const credentials = async (id: string): Promise<{ form: Record<string, string>; headers: Record<string, string> }> =>
        method === 'private_key_jwt'
          ? { form: assertionForm(await clientAssertion(key, id, { aud: ISSUER + '/token/introspect' })), headers: {} }
          : { form: {}, headers: { authorization: basic(id, 'tpp-default-secret') } };
      const mine = await credentials(clientId);
      const seen = lines.length;
      const response = await gw.post('/token/introspect', { token: 'whatever', ...mine.form }, mine.headers);
      expect(response.status).toBe(401);
      const body = await json(response);
      expect(body).toEqual({ error: 'invalid_client', error_description: expect.any(String), client_auth_id: expect.any(String) });
      expect(body).not.toHaveProperty('active');
      const stranger = await credentials('nobody');
      const failed = await json(await gw.post('/token/introspect', { token: 'whatever', ...stranger.form }, stranger.headers));
      expect(body.error_description).toBe(failed.error_description);
      const cause = lines
        .slice(seen)
        .map((line) => JSON.parse(line))
        .find((entry) => entry.detail === `client ${clientId} is a tpp, which cannot call this endpoint`);
      expect(cause).toEqual(expect.objectContaining({ profile: 'introspect', status: 401, client_auth_id: body.client_auth_id }));
    });
  });

  it('counts the refusal as a client-authentication failure of the method used', async () => {
    const before = await metric('revgw_client_auth_failures_total{method="client_secret_basic"}');
    const response = await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('rs-basic', 'rs-basic-secret') });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await metric('revgw_client_auth_failures_total{method="client_secret_basic"}')).toBe(before + 1);
  });

  async function metric(series: string): Promise<number> {
    const text = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return Number(line?.split(' ')[1] ?? 0);
  }
});
