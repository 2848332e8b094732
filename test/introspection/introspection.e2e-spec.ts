import { randomUUID } from 'node:crypto';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, YESTERDAY, type TestGateway } from '../support/gateway';
import { sample, scrape } from '../support/metrics';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

const RS = { authorization: basic('rs', 'rs-secret-value') };
const INACTIVE = '{"active":false}';
const THUMBPRINT = 'A'.repeat(43);

/**
 * docs/api.md §11.2: RFC 7662 introspection for resource servers, against the real database. Every
 * token that does not stand gets exactly `{"active":false}`; an active one its registered
 * attributes, absent ones left out; every refusal is in the rfc7009 shape with the interaction id.
 */
describe('POST /token/introspect', () => {
  let gw: TestGateway;
  let key: SigningKey;

  beforeAll(async () => {
    gw = await startTestGateway();
    key = await signingKey('PS256');
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    await gw.admin('PUT', '/admin/clients/rs-jwt', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, role: 'resource_server' });
    await gw.admin('PUT', '/admin/clients/rs', { tenant: 'bank-b', auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    for (const tenant of ['default', 'bank-b']) {
      await gw.admin('PUT', '/admin/clients/tpp', { tenant, auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    }
  });
  afterAll(() => gw.stop());

  async function register(entries: Array<Record<string, unknown>>, tenant?: string): Promise<void> {
    const tokens = entries.map((entry) => ({ token_type: 'access_token', client_id: 'tpp', grant_id: 'g-1', expires_at: IN_A_YEAR, ...entry }));
    const response = await gw.admin('POST', '/admin/tokens', { ...(tenant ? { tenant } : {}), tokens });
    expect(response.status).toBe(201);
  }

  const introspect = (form: Record<string, string>, headers: Record<string, string> = RS) => gw.post('/token/introspect', form, headers);

  async function expectInactive(response: Response): Promise<void> {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe(INACTIVE);
  }

  describe('an active token', () => {
    it('an access token with every attribute: exactly the registered members, exp/iat in seconds, iss = ISSUER', async () => {
      const token = newToken();
      await register([
        {
          token,
          subject: 'psu-1',
          consent_id: 'consent-1',
          scope: 'accounts payments:read',
          cnf: { 'x5t#S256': THUMBPRINT },
          issued_at: '2026-12-01T10:00:00Z',
          expires_at: '2099-01-01T00:00:00+01:00',
        },
      ]);
      const interactionId = randomUUID();
      const response = await introspect({ token, token_type_hint: 'access_token' }, { ...RS, 'x-fapi-interaction-id': interactionId });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-fapi-interaction-id')).toBe(interactionId);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await json(response)).toEqual({
        active: true,
        token_use: 'access_token',
        token_type: 'Bearer',
        client_id: 'tpp',
        exp: Date.parse('2099-01-01T00:00:00+01:00') / 1000,
        iat: Date.parse('2026-12-01T10:00:00Z') / 1000,
        iss: ISSUER,
        sub: 'psu-1',
        scope: 'accounts payments:read',
        cnf: { 'x5t#S256': THUMBPRINT },
        grant_id: 'g-1',
        consent_id: 'consent-1',
      });
    });

    it('a minimal access token: no null members; iat is its registration time', async () => {
      const token = newToken();
      const before = Math.floor(Date.now() / 1000);
      await register([{ token }]);
      const body = await json(await introspect({ token }));
      expect(Object.keys(body).sort()).toEqual(['active', 'client_id', 'exp', 'grant_id', 'iat', 'iss', 'token_type', 'token_use']);
      expect(body.iat).toBeGreaterThanOrEqual(before - 1);
      expect(body.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
      expect(Number.isInteger(body.exp)).toBe(true);
    });

    it('a DPoP-bound access token (cnf.jkt) has token_type DPoP', async () => {
      const token = newToken();
      await register([{ token, cnf: { jkt: THUMBPRINT } }]);
      expect(await json(await introspect({ token }))).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: THUMBPRINT } });
    });

    it('a refresh token: token_use refresh_token and no token_type, whatever the hint says', async () => {
      const token = newToken('rt');
      await register([{ token, token_type: 'refresh_token', scope: 'offline_access' }]);
      for (const hint of [undefined, 'access_token', 'refresh_token', 'something_else']) {
        const body = await json(await introspect({ token, ...(hint ? { token_type_hint: hint } : {}) }));
        expect(body).toMatchObject({ active: true, token_use: 'refresh_token', scope: 'offline_access' });
        expect(body).not.toHaveProperty('token_type');
      }
    });

    it('in a tenant with an issuer: iss is that issuer; the tenant is read from Tenant-ID or Issuer', async () => {
      const token = newToken();
      await register([{ token }], 'bank-b');
      expect(await json(await introspect({ token }, { ...RS, 'tenant-id': 'bank-b' }))).toMatchObject({ active: true, iss: 'https://as.bank-b.example' });
      expect(await json(await introspect({ token }, { ...RS, issuer: 'https://as.bank-b.example' }))).toMatchObject({ active: true });
    });

    it('a resource server authenticating with private_key_jwt (aud = ISSUER + /token/introspect)', async () => {
      const token = newToken();
      await register([{ token }]);
      const form = { token, ...assertionForm(await clientAssertion(key, 'rs-jwt', { aud: ISSUER + '/token/introspect' })) };
      expect(await json(await gw.post('/token/introspect', form))).toMatchObject({ active: true, client_id: 'tpp' });
    });
  });

  describe('exactly {"active":false}', () => {
    it('an unknown token', async () => {
      await expectInactive(await introspect({ token: newToken() }));
    });

    it('an expired token', async () => {
      const token = newToken();
      await register([{ token, expires_at: YESTERDAY, issued_at: '2020-01-01T00:00:00Z' }]);
      await expectInactive(await introspect({ token }));
    });

    it('a token of another tenant (registered in bank-b, asked in default, and the reverse)', async () => {
      const inB = newToken();
      const inDefault = newToken();
      await register([{ token: inB }], 'bank-b');
      await register([{ token: inDefault }]);
      await expectInactive(await introspect({ token: inB }));
      await expectInactive(await introspect({ token: inDefault }, { ...RS, 'tenant-id': 'bank-b' }));
    });

    it('a token revoked by its client', async () => {
      const token = newToken();
      await register([{ token }]);
      expect((await json(await introspect({ token }))).active).toBe(true);
      expect((await gw.post('/token/revoke', { token }, { authorization: basic('tpp', 'tpp-secret-value') })).status).toBe(200);
      await expectInactive(await introspect({ token }));
    });

    it('an access token revoked by cascade from its refresh token', async () => {
      const refresh = newToken('rt');
      const access = newToken();
      await register([
        { token: refresh, token_type: 'refresh_token', grant_id: 'g-cascade' },
        { token: access, refresh_token: refresh, grant_id: 'g-cascade' },
      ]);
      expect((await gw.post('/token/revoke', { token: refresh }, { authorization: basic('tpp', 'tpp-secret-value') })).status).toBe(200);
      await expectInactive(await introspect({ token: access }));
      await expectInactive(await introspect({ token: refresh }));
    });

    it('a token revoked with its consent, and one revoked by a bulk revocation', async () => {
      const underConsent = newToken();
      const ofSubject = newToken();
      await register([
        { token: underConsent, consent_id: 'consent-withdrawn' },
        { token: ofSubject, subject: 'psu-closed' },
      ]);
      const oam = await gw.post(
        '/oauth2/rest/token/revoke',
        { token: underConsent, revocation_level: 'RELATED_CONSENT' },
        { authorization: basic('tpp', 'tpp-secret-value') },
      );
      expect(oam.status).toBe(200);
      await expectInactive(await introspect({ token: underConsent }));
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-closed' })).body).toEqual({ revoked: 1 });
      await expectInactive(await introspect({ token: ofSubject }));
    });
  });

  describe('refusals (rfc7009 shape, interaction id, no-store)', () => {
    async function expectError(response: Response, status: number, error: string): Promise<any> {
      expect(response.status).toBe(status);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = await json(response);
      expect(body).toMatchObject({ error, error_description: expect.any(String) });
      expect(body).not.toHaveProperty('active');
      return body;
    }

    it.each([
      ['no token', 'client_id=rs'],
      ['an empty token', 'token='],
      ['a repeated token', 'token=a&token=b'],
      ['a token over 8192 characters', `token=${'a'.repeat(8193)}`],
    ])('400 invalid_request: %s', async (_what, body) => {
      await expectError(await introspect(body as unknown as Record<string, string>), 400, 'invalid_request');
    });

    it('400 for a malformed FAPI header, naming it; for an unknown tenant; for a body that is not a form', async () => {
      const token = newToken();
      const header = await expectError(await introspect({ token }, { ...RS, 'x-fapi-customer-ip-address': 'not-an-ip' }), 400, 'invalid_request');
      expect(header.error_description).toMatch(/x-fapi-customer-ip-address/);
      await expectError(await introspect({ token }, { ...RS, 'tenant-id': 'no-such-tenant' }), 400, 'invalid_request');
      const notForm = await fetch(gw.publicUrl + '/token/introspect', { method: 'POST', headers: { ...RS, 'content-type': 'application/json' }, body: '{}' });
      await expectError(notForm, 400, 'invalid_request');
    });

    it('401 invalid_client: a wrong secret (with the Basic challenge), an unknown client, a public client_id', async () => {
      const token = newToken();
      await register([{ token }]);
      const wrong = await introspect({ token }, { authorization: basic('rs', 'wrong-secret') });
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="revocation"');
      expect(await expectError(wrong, 401, 'invalid_client')).toHaveProperty('client_auth_id');
      await expectError(await introspect({ token }, { authorization: basic('nobody', 'x') }), 401, 'invalid_client');
      await expectError(await introspect({ token, client_id: 'rs' }, {}), 401, 'invalid_client');
      await expectError(await introspect({ token }, {}), 401, 'invalid_client');
    });

    it('413 for a body over 16 KiB', async () => {
      await expectError(await introspect({ token: 'a'.repeat(17 * 1024) }), 413, 'invalid_request');
    });

    it('405 for GET, 404 when PROFILES leaves it out', async () => {
      const get = await fetch(gw.publicUrl + '/token/introspect');
      expect(get.status).toBe(405);
      expect(get.headers.get('x-fapi-interaction-id')).toBeTruthy();
      const without = await startTestGateway({ PROFILES: 'rfc7009' });
      try {
        expect((await without.post('/token/introspect', { token: 'x' }, RS)).status).toBe(404);
      } finally {
        await without.stop();
      }
    });
  });

  it('counts answers in revgw_introspections_total{result} and requests under profile introspect', async () => {
    const metrics = () => scrape(gw.managementUrl);
    const token = newToken();
    await register([{ token }]);
    const before = await metrics();
    await introspect({ token });
    await introspect({ token: newToken() });
    await introspect({ token: newToken() });
    await introspect({}, {});
    const after = await metrics();
    expect(sample(after, 'revgw_introspections_total{result="active"}') - sample(before, 'revgw_introspections_total{result="active"}')).toBe(1);
    expect(sample(after, 'revgw_introspections_total{result="inactive"}') - sample(before, 'revgw_introspections_total{result="inactive"}')).toBe(2);
    const ok = 'revgw_http_requests_total{profile="introspect",status="200"}';
    expect(sample(after, ok) - (sample(before, ok) || 0)).toBe(3);
    expect(sample(after, 'revgw_http_requests_total{profile="introspect",status="400"}')).toBeGreaterThanOrEqual(1);
  });
});

/** docs/api.md §11.1: a resource server's budget is its own, THROTTLE_RESOURCE_SERVER_LIMIT, not THROTTLE_CLIENT_LIMIT. */
describe('resource-server budget', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ THROTTLE_CLIENT_LIMIT: '1', THROTTLE_RESOURCE_SERVER_LIMIT: '3', THROTTLE_TTL_MS: '60000' });
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
  });
  afterAll(() => gw.stop());

  it('three introspections pass where a tpp gets one; the fourth is 429 with Retry-After in the rfc7009 shape', async () => {
    for (let i = 0; i < 3; i++) expect((await gw.post('/token/introspect', { token: newToken() }, RS)).status).toBe(200);
    const refused = await gw.post('/token/introspect', { token: newToken() }, RS);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-fapi-interaction-id')).toBeTruthy();
    expect(await json(refused)).toEqual({ error: 'too_many_requests', error_description: expect.any(String) });
  });
});
