import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

/**
 * Every profile of docs/api.md §2 walked row by row against one gateway: success, unknown token,
 * another client's token, each error status and each parameter value, in the profile's own shape.
 */
describe('revocation profiles (docs/api.md §2)', () => {
  let gw: TestGateway;
  let key: SigningKey;
  let otherKey: SigningKey;

  beforeAll(async () => {
    key = await signingKey('ES256');
    otherKey = await signingKey('ES256');
    gw = await startTestGateway();
    for (const tenant of ['default', 'bank-b']) {
      await gw.admin('PUT', '/admin/clients/tpp', { tenant, auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      await gw.admin('PUT', '/admin/clients/other', { tenant, auth_method: 'private_key_jwt', jwks: { keys: [otherKey.publicJwk] } });
      await gw.admin('PUT', '/admin/clients/basic-tpp', { tenant, auth_method: 'client_secret_basic', secret: 'basic-tpp-secret' });
    }
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
  });
  afterAll(() => gw.stop());

  interface Profile {
    route: string;
    success: { status: number; body: unknown };
    unknown: { status: number; body: unknown };
    foreign: number;
    /** Checks an error body's shape and, where it carries one, its code. */
    errorShape: (body: any, code: string) => void;
  }

  const PROFILES: Record<string, Profile> = {
    rfc7009: {
      route: '/token/revoke',
      success: { status: 200, body: '' },
      unknown: { status: 200, body: '' },
      foreign: 400,
      errorShape: (body, code) =>
        expect(body).toEqual({
          error: code,
          error_description: expect.any(String),
          ...(code === 'invalid_client' ? { client_auth_id: expect.any(String) } : {}),
        }),
    },
    fapi: {
      route: '/token/revocation',
      success: { status: 204, body: '' },
      unknown: { status: 404, body: { errors: [expect.any(String)] } },
      foreign: 404,
      errorShape: (body) => expect(body).toEqual({ errors: [expect.any(String)] }),
    },
    oam: {
      route: '/oauth2/rest/token/revoke',
      success: { status: 200, body: { status: 'success' } },
      unknown: { status: 200, body: { status: 'success' } },
      foreign: 400,
      errorShape: (body, code) => expect(body).toEqual({ errorCode: code, errorMessage: expect.any(String) }),
    },
    idv1: {
      route: '/api/id/v1/auth/token/revoke',
      success: { status: 200, body: '' },
      unknown: { status: 200, body: '' },
      foreign: 400,
      errorShape: (body, code) => expect(body).toEqual({ error: code, errorDescription: expect.any(String) }),
    },
  };

  const auth = async (route: string, clientId = 'tpp', signer = key) => assertionForm(await clientAssertion(signer, clientId, { aud: ISSUER + route }));

  async function register(tokens: object[], tenant = 'default') {
    expect((await gw.admin('POST', '/admin/tokens', { tenant, tokens })).status).toBe(201);
  }

  async function family(clientId = 'tpp', tenant = 'default') {
    const t = { rt: newToken('rt'), at: newToken('at'), sibling: newToken('at'), consent: newToken('consent') };
    const base = { client_id: clientId, grant_id: 'g', consent_id: t.consent, expires_at: IN_A_YEAR };
    await register(
      [
        { ...base, token: t.rt, token_type: 'refresh_token' },
        { ...base, token: t.at, token_type: 'access_token', refresh_token: t.rt },
        { ...base, token: t.sibling, token_type: 'access_token' },
      ],
      tenant,
    );
    return t;
  }

  async function active(token: string, tenant = 'default'): Promise<boolean> {
    return (await gw.admin('POST', '/admin/tokens/status', { tenant, token })).body.active;
  }

  async function body(response: Response): Promise<unknown> {
    const text = await response.text();
    return text === '' ? '' : JSON.parse(text);
  }

  describe.each(Object.entries(PROFILES))('%s', (_name, p) => {
    it('success: revokes the caller’s token', async () => {
      const { at } = await family();
      const response = await gw.post(p.route, { token: at, ...(await auth(p.route)) });
      expect(response.status).toBe(p.success.status);
      expect(await body(response)).toEqual(p.success.body);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
      expect(await active(at)).toBe(false);
    });

    it('unknown token', async () => {
      const response = await gw.post(p.route, { token: 'never-issued', ...(await auth(p.route)) });
      expect(response.status).toBe(p.unknown.status);
      expect(await body(response)).toEqual(p.unknown.body);
    });

    it('another client’s token: refused, nothing revoked', async () => {
      const { at } = await family('other');
      const response = await gw.post(p.route, { token: at, ...(await auth(p.route)) });
      expect(response.status).toBe(p.foreign);
      expect(await active(at)).toBe(true);
    });

    it('400 for a missing token, in the profile’s shape', async () => {
      const response = await gw.post(p.route, { ...(await auth(p.route)) });
      expect(response.status).toBe(400);
      p.errorShape(await json(response), 'invalid_request');
    });

    it('401 for failed client authentication, in the profile’s shape', async () => {
      const response = await gw.post(p.route, { token: 'x', ...(await auth(p.route, 'tpp', otherKey)) });
      expect(response.status).toBe(401);
      p.errorShape(await json(response), 'invalid_client');
    });

    it('413 for a body over 16 KiB, in the profile’s shape', async () => {
      const response = await gw.post(p.route, `token=${'a'.repeat(17000)}`);
      expect(response.status).toBe(413);
      p.errorShape(await json(response), 'invalid_request');
    });

    it('400 for an unknown Tenant-ID, in the profile’s shape', async () => {
      const response = await gw.post(p.route, { token: 'x', ...(await auth(p.route)) }, { 'tenant-id': 'no-such-bank' });
      expect(response.status).toBe(400);
      p.errorShape(await json(response), 'invalid_request');
    });

    it('tenant isolation: a token of tenant default is unknown to the same client id in tenant bank-b', async () => {
      const { at } = await family();
      for (const headers of [{ 'tenant-id': 'bank-b' }, { issuer: 'https://as.bank-b.example' }] as Record<string, string>[]) {
        const response = await gw.post(p.route, { token: at, ...(await auth(p.route)) }, headers);
        expect(response.status).toBe(p.unknown.status);
      }
      expect(await active(at)).toBe(true);
    });

    it('revokes in the tenant named by Tenant-ID', async () => {
      const { at } = await family('tpp', 'bank-b');
      const response = await gw.post(p.route, { token: at, ...(await auth(p.route)) }, { 'tenant-id': 'bank-b' });
      expect(response.status).toBe(p.success.status);
      expect(await active(at, 'bank-b')).toBe(false);
    });
  });

  describe('tenant directory', () => {
    it('follows an issuer that moves to another tenant at once', async () => {
      await gw.admin('PUT', '/admin/tenants/moving-a', { issuer: 'https://moving.example' });
      await gw.admin('PUT', '/admin/clients/tpp', { tenant: 'moving-a', auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      const t = await family('tpp', 'moving-a');
      expect((await gw.post('/token/revoke', { token: 'x', ...(await auth('/token/revoke')) }, { issuer: 'https://moving.example' })).status).toBe(200);
      await gw.admin('PUT', '/admin/tenants/moving-a', {});
      await gw.admin('PUT', '/admin/tenants/moving-b', { issuer: 'https://moving.example' });
      const response = await gw.post('/token/revoke', { token: t.at, ...(await auth('/token/revoke')) }, { issuer: 'https://moving.example' });
      expect(response.status).toBe(401); // tpp is not registered in moving-b
      expect(await active(t.at, 'moving-a')).toBe(true);
    });

    it('knows a tenant the moment the admin API creates it', async () => {
      const route = '/token/revoke';
      expect((await gw.post(route, { token: 'x', ...(await auth(route)) }, { 'tenant-id': 'brand-new' })).status).toBe(400);
      await gw.admin('PUT', '/admin/clients/tpp', { tenant: 'brand-new', auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      expect((await gw.post(route, { token: 'x', ...(await auth(route)) }, { 'tenant-id': 'brand-new' })).status).toBe(200);
    });

    it('maps the gateway’s own ISSUER to the default tenant', async () => {
      const route = '/token/revoke';
      expect((await gw.post(route, { token: 'x', ...(await auth(route)) }, { issuer: ISSUER })).status).toBe(200);
    });
  });

  describe('profile-specific parameters', () => {
    it('fapi and idv1 refuse an unknown token_type_hint; rfc7009 ignores it', async () => {
      for (const [route, status] of [
        ['/token/revocation', 400],
        ['/api/id/v1/auth/token/revoke', 400],
        ['/token/revoke', 200],
      ] as const) {
        const response = await gw.post(route, { token: 'x', token_type_hint: 'id_token', ...(await auth(route)) });
        expect(response.status).toBe(status);
      }
    });

    it('public clients may use rfc7009, oam and idv1 but not fapi or cdr', async () => {
      await gw.admin('PUT', '/admin/clients/public-app', { auth_method: 'none' });
      for (const [route, status] of [
        ['/token/revoke', 200],
        ['/oauth2/rest/token/revoke', 200],
        ['/api/id/v1/auth/token/revoke', 200],
        ['/token/revocation', 401],
        ['/arrangements/revoke', 401],
      ] as const) {
        const response = await gw.post(route, { token: 'x', cdr_arrangement_id: 'x', client_id: 'public-app' });
        expect([route, response.status]).toEqual([route, status]);
      }
    });

    it('client_secret_basic works on rfc7009, oam and idv1', async () => {
      for (const route of ['/token/revoke', '/oauth2/rest/token/revoke', '/api/id/v1/auth/token/revoke']) {
        const response = await gw.post(route, { token: 'x' }, { authorization: basic('basic-tpp', 'basic-tpp-secret') });
        expect(response.status).toBe(200);
      }
    });
  });

  describe('oam', () => {
    const route = '/oauth2/rest/token/revoke';

    it.each(['ACCESS_TOKEN', 'REFRESH_TOKEN', 'NONE'])('accepts token_type_hint=%s', async (hint) => {
      const { at } = await family();
      expect((await gw.post(route, { token: at, token_type_hint: hint, ...(await auth(route)) })).status).toBe(200);
      expect(await active(at)).toBe(false);
    });

    it.each([
      ['token_type_hint', 'access_token'],
      ['token_type_hint', 'ID_TOKEN'],
      ['revocation_level', 'ALL'],
      ['revocation_level', 'related_tokens'],
    ])('refuses %s=%s with 400 {errorCode, errorMessage}', async (name, value) => {
      const response = await gw.post(route, { token: 'x', [name]: value, ...(await auth(route)) });
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ errorCode: expect.any(String), errorMessage: expect.any(String) });
    });

    it.each([
      ['NONE (default)', undefined, ['rt', 'sibling']],
      ['NONE', 'NONE', ['rt', 'sibling']],
      ['RELATED_TOKENS', 'RELATED_TOKENS', ['sibling']],
      ['RELATED_CONSENT', 'RELATED_CONSENT', []],
    ])('revocation_level %s on an access token leaves %j active', async (_name, level, stillActive) => {
      const t = await family();
      const form: Record<string, string> = { token: t.at, ...(await auth(route)) };
      if (level) form.revocation_level = level;
      expect((await gw.post(route, form)).status).toBe(200);
      const activeNow = [];
      for (const name of ['rt', 'at', 'sibling'] as const) if (await active(t[name])) activeNow.push(name);
      expect(activeNow).toEqual(stillActive);
    });

    it('takes the tenant from x-oauth-identity-domain-name, then identityDomain; Tenant-ID wins', async () => {
      const { at } = await family('tpp', 'bank-b');
      expect((await gw.post(route, { token: at, ...(await auth(route)) }, { 'x-oauth-identity-domain-name': 'bank-b' })).status).toBe(200);
      expect(await active(at, 'bank-b')).toBe(false);
      const second = await family('tpp', 'bank-b');
      expect((await gw.post(`${route}?identityDomain=bank-b`, { token: second.at, ...(await auth(route)) })).status).toBe(200);
      expect(await active(second.at, 'bank-b')).toBe(false);
      const third = await family('tpp', 'bank-b');
      await gw.post(route, { token: third.at, ...(await auth(route)) }, { 'tenant-id': 'default', 'x-oauth-identity-domain-name': 'bank-b' });
      expect(await active(third.at, 'bank-b')).toBe(true);
      const unknown = await gw.post(`${route}?identityDomain=nowhere`, { token: 'x', ...(await auth(route)) });
      expect(unknown.status).toBe(400);
    });
  });

  describe('cdr: POST /arrangements/revoke', () => {
    const route = '/arrangements/revoke';

    it('revokes the arrangement and every token under it: 204', async () => {
      const t = await family();
      const response = await gw.post(route, { cdr_arrangement_id: t.consent, ...(await auth(route)) });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      for (const token of [t.rt, t.at, t.sibling]) expect(await active(token)).toBe(false);
      expect((await gw.post(route, { cdr_arrangement_id: t.consent, ...(await auth(route)) })).status).toBe(204);
    });

    it('reaches an access token registered only through its refresh token', async () => {
      const consent = newToken('arr');
      const rt = newToken('rt');
      const at = newToken('at');
      await register([
        { token: rt, token_type: 'refresh_token', client_id: 'tpp', grant_id: 'g', consent_id: consent, expires_at: IN_A_YEAR },
        { token: at, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', refresh_token: rt, expires_at: IN_A_YEAR },
      ]);
      expect((await gw.post(route, { cdr_arrangement_id: consent, ...(await auth(route)) })).status).toBe(204);
      expect([await active(rt), await active(at)]).toEqual([false, false]);
    });

    it('422 InvalidArrangement for an unknown or another client’s arrangement', async () => {
      const theirs = await family('other');
      for (const id of ['no-such-arrangement', theirs.consent]) {
        const response = await gw.post(route, { cdr_arrangement_id: id, ...(await auth(route)) });
        expect(response.status).toBe(422);
        expect(await json(response)).toEqual({
          errors: [{ code: 'urn:au-cds:error:cds-all:Authorisation/InvalidArrangement', title: expect.any(String), detail: expect.any(String) }],
        });
      }
      expect(await active(theirs.at)).toBe(true);
    });

    it('400 Field/Missing without cdr_arrangement_id, Field/Invalid for a repeated one', async () => {
      const missing = await gw.post(route, { token: 'x', ...(await auth(route)) });
      expect(missing.status).toBe(400);
      expect((await json(missing)).errors[0].code).toBe('urn:au-cds:error:cds-all:Field/Missing');
      const repeated = await gw.post(route, `cdr_arrangement_id=a&cdr_arrangement_id=b&${new URLSearchParams(await auth(route))}`);
      expect(repeated.status).toBe(400);
      expect((await json(repeated)).errors[0].code).toBe('urn:au-cds:error:cds-all:Field/Invalid');
    });

    it('accepts only private_key_jwt: 401 for client_secret_basic', async () => {
      const response = await gw.post(route, { cdr_arrangement_id: 'x' }, { authorization: basic('basic-tpp', 'basic-tpp-secret') });
      expect(response.status).toBe(401);
      expect((await json(response)).errors[0].code).toBe('urn:au-cds:error:cds-all:Authorisation/Unauthorized');
    });

    it('isolates tenants: an arrangement of tenant bank-b is unknown in default', async () => {
      const t = await family('tpp', 'bank-b');
      expect((await gw.post(route, { cdr_arrangement_id: t.consent, ...(await auth(route)) })).status).toBe(422);
      expect(await active(t.at, 'bank-b')).toBe(true);
      expect((await gw.post(route, { cdr_arrangement_id: t.consent, ...(await auth(route)) }, { 'tenant-id': 'bank-b' })).status).toBe(204);
      expect(await active(t.at, 'bank-b')).toBe(false);
    });
  });
});
