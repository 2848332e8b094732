import { ADMIN_TOKEN, IN_A_YEAR, newToken, startTestGateway, type TestGateway, json } from '../support/gateway';

describe('admin API (management port)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.stop());

  const token = (overrides: Record<string, unknown> = {}) => ({
    token: newToken(),
    token_type: 'access_token',
    client_id: 'tpp',
    grant_id: 'grant-1',
    expires_at: IN_A_YEAR,
    ...overrides,
  });

  async function status(value: string) {
    return gw.admin('POST', '/admin/tokens/status', { token: value });
  }

  describe('authentication', () => {
    it('answers 401 without a bearer token and with a wrong one', async () => {
      const none = await fetch(`${gw.managementUrl}/admin/revocation-events`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
      expect((await json(none)).error).toBe('invalid_client');
      const wrong = await fetch(`${gw.managementUrl}/admin/revocation-events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
      expect(wrong.status).toBe(401);
    });

    it('checks the bearer before reading the body: malformed or foreign bodies still get 401', async () => {
      for (const [contentType, body] of [
        ['application/json', '{bad'],
        ['application/x-www-form-urlencoded', 'a=b'],
      ]) {
        const response = await fetch(`${gw.managementUrl}/admin/tokens`, { method: 'POST', headers: { 'content-type': contentType }, body });
        expect(response.status).toBe(401);
      }
    });

    it('answers 404 on every admin route when ADMIN_API_TOKEN is unset', async () => {
      const bare = await startTestGateway({ ADMIN_API_TOKEN: '' });
      try {
        for (const [method, path] of [
          ['GET', '/admin/revocation-events'],
          ['PUT', '/admin/clients/x'],
          ['POST', '/admin/tokens'],
        ]) {
          const response = await fetch(bare.managementUrl + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
          expect(response.status).toBe(404);
        }
        const malformed = await fetch(`${bare.managementUrl}/admin/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
        expect(malformed.status).toBe(404);
      } finally {
        await bare.stop();
      }
    });
  });

  describe('tenants and clients', () => {
    it('creates a tenant (201) and replaces it (200)', async () => {
      expect((await gw.admin('PUT', '/admin/tenants/bank-uk', { issuer: 'https://as.bank.example/uk' })).status).toBe(201);
      const replaced = await gw.admin('PUT', '/admin/tenants/bank-uk', { issuer: 'https://as.bank.example/uk2' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toEqual({ tenant: 'bank-uk', issuer: 'https://as.bank.example/uk2', access_token_jwks_uri: null });
      // docs/api.md §11.3: the tenant's access-token keys, replaced whole like the rest.
      const keyed = await gw.admin('PUT', '/admin/tenants/bank-uk', {
        issuer: 'https://as.bank.example/uk2',
        access_token_jwks_uri: 'https://as.bank.example/uk2/jwks',
      });
      expect(keyed.status).toBe(200);
      expect(keyed.body).toEqual({ tenant: 'bank-uk', issuer: 'https://as.bank.example/uk2', access_token_jwks_uri: 'https://as.bank.example/uk2/jwks' });
      for (const bad of ['not a url', 'ftp://as.bank.example/jwks', 42, null]) {
        const refused = await gw.admin('PUT', '/admin/tenants/bank-uk', { access_token_jwks_uri: bad });
        expect(refused.status).toBe(400);
      }
    });

    it('refuses a bad tenant name and an issuer already used by another tenant', async () => {
      expect((await gw.admin('PUT', '/admin/tenants/bad name!', {})).status).toBe(400);
      await gw.admin('PUT', '/admin/tenants/t-one', { issuer: 'https://one.example' });
      expect((await gw.admin('PUT', '/admin/tenants/t-two', { issuer: 'https://one.example' })).status).toBe(400);
    });

    it('creates a client (201), replaces it (200), never returns its secret', async () => {
      const created = await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value', name: 'TPP' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ client_id: 'tpp', tenant: 'default', auth_method: 'client_secret_basic', name: 'TPP', role: 'tpp' });
      const replaced = await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      expect(replaced.status).toBe(200);
      expect(JSON.stringify(replaced.body)).not.toContain('tpp-secret-value');
    });

    it('creates the tenant of a client PUT when it does not exist yet', async () => {
      expect((await gw.admin('PUT', '/admin/clients/eu-tpp', { tenant: 'bank-eu', auth_method: 'none' })).status).toBe(201);
      expect((await gw.admin('PUT', '/admin/tenants/bank-eu', {})).status).toBe(200);
    });

    it.each([
      ['no auth_method', {}],
      ['an unknown auth_method', { auth_method: 'client_secret_jwt' }],
      ['a secret method without secret', { auth_method: 'client_secret_post' }],
      ['a secret for a public client', { auth_method: 'none', secret: 'x' }],
      ['private_key_jwt without keys', { auth_method: 'private_key_jwt' }],
      ['private_key_jwt with jwks and jwks_uri', { auth_method: 'private_key_jwt', jwks: { keys: [] }, jwks_uri: 'https://tpp.example/jwks' }],
      ['jwks that is not a JWK Set', { auth_method: 'private_key_jwt', jwks: { kty: 'EC' } }],
      ['tls_client_auth without subject or SAN', { auth_method: 'tls_client_auth' }],
      ['tls_client_auth with two matchers', { auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=tpp', tls_client_auth_san_dns: 'tpp.example' }],
      ['a bad tenant', { auth_method: 'none', tenant: 'no spaces' }],
      ['jwks whose keys are not JWKs', { auth_method: 'private_key_jwt', jwks: { keys: [1] } }],
      ['a SAN IP that is not an address', { auth_method: 'tls_client_auth', tls_client_auth_san_ip: 'not-an-ip' }],
      ['a subject DN that does not parse', { auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'no equals sign' }],
      ['a SAN URI that is not absolute', { auth_method: 'tls_client_auth', tls_client_auth_san_uri: 'relative/path' }],
      ['a SAN e-mail without @', { auth_method: 'tls_client_auth', tls_client_auth_san_email: 'ops.example' }],
    ])('refuses a client with %s: 400 invalid_request', async (_name, body) => {
      const response = await gw.admin('PUT', '/admin/clients/bad-client', body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('accepts every method with its metadata', async () => {
      const bodies = [
        { auth_method: 'private_key_jwt', jwks_uri: 'https://tpp.example/jwks' },
        { auth_method: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] } },
        { auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=tpp,O=TPP Ltd,C=GB' },
        { auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'tpp.example' },
      ];
      for (const [i, body] of bodies.entries()) expect((await gw.admin('PUT', `/admin/clients/m-${i}`, body)).status).toBe(201);
    });

    it('deletes a client: 204, also when repeated', async () => {
      await gw.admin('PUT', '/admin/clients/short-lived', { auth_method: 'none' });
      expect((await gw.admin('DELETE', '/admin/clients/short-lived')).status).toBe(204);
      expect((await gw.admin('DELETE', '/admin/clients/short-lived')).status).toBe(204);
    });
  });

  describe('token registration', () => {
    beforeAll(async () => {
      await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      await gw.admin('PUT', '/admin/clients/tpp-2', { auth_method: 'none' });
    });

    it('registers tokens (201, count of new ones) and re-registering is a no-op', async () => {
      const rt = token({ token_type: 'refresh_token' });
      const at = token({ refresh_token: rt.token, consent_id: 'consent-x', subject: 'psu-9' });
      const first = await gw.admin('POST', '/admin/tokens', { tokens: [rt, at] });
      expect(first).toMatchObject({ status: 201, body: { registered: 2 } });
      const again = await gw.admin('POST', '/admin/tokens', { tokens: [rt, at, at] });
      expect(again).toMatchObject({ status: 201, body: { registered: 0 } });
      const { body } = await status(at.token);
      expect(body).toEqual({
        token_type: 'access_token',
        client_id: 'tpp',
        grant_id: 'grant-1',
        consent_id: 'consent-x',
        active: true,
        revoked_at: null,
        expires_at: new Date(IN_A_YEAR).toISOString(),
      });
    });

    it('keeps scope, cnf and issued_at (docs/api.md §9) and says them in the status; a later registration does not change them', async () => {
      const at = token({ scope: 'accounts payments:read', cnf: { 'x5t#S256': 'x'.repeat(43) }, issued_at: '2026-12-01T10:00:00+01:00' });
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [at] })).status).toBe(201);
      expect((await status(at.token)).body).toMatchObject({
        scope: 'accounts payments:read',
        cnf: { 'x5t#S256': 'x'.repeat(43) },
        issued_at: '2026-12-01T09:00:00.000Z',
      });
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [at] })).body).toEqual({ registered: 0 });
      // As for every attribute: a stored registration is never rewritten by a later call.
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [{ ...at, scope: 'accounts' }] })).body).toEqual({ registered: 0 });
      expect((await status(at.token)).body.scope).toBe('accounts payments:read');
    });

    it('links an access token to a refresh token registered earlier', async () => {
      const rt = token({ token_type: 'refresh_token' });
      await gw.admin('POST', '/admin/tokens', { tokens: [rt] });
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [token({ refresh_token: rt.token })] })).status).toBe(201);
    });

    it.each([
      ['an unregistered client', () => [token(), token({ client_id: 'nobody' })]],
      ['an unknown parent refresh token', () => [token(), token({ refresh_token: 'never-registered' })]],
      [
        'a parent that is an access token',
        () => {
          const at = token();
          return [at, token({ refresh_token: at.token })];
        },
      ],
      [
        'a parent of another client',
        () => {
          const rt = token({ token_type: 'refresh_token', client_id: 'tpp-2' });
          return [rt, token({ refresh_token: rt.token })];
        },
      ],
      [
        'a refresh token with a parent',
        () => {
          const rt = token({ token_type: 'refresh_token' });
          return [rt, token({ token_type: 'refresh_token', refresh_token: rt.token })];
        },
      ],
      ['expires_at without offset', () => [token(), token({ expires_at: '2030-01-01T00:00:00' })]],
      ['expires_at that is not a date', () => [token(), token({ expires_at: 'tomorrow' })]],
      ['an unknown token_type', () => [token(), token({ token_type: 'id_token' })]],
      ['a token over 8192 characters', () => [token(), token({ token: 'a'.repeat(8193) })]],
      ['a missing grant_id', () => [token(), token({ grant_id: undefined })]],
      ['a scope with a character RFC 6749 §3.3 does not allow', () => [token(), token({ scope: 'accounts "payments"' })]],
      ['a scope with an empty token', () => [token(), token({ scope: 'accounts  payments' })]],
      ['a scope over 1024 characters', () => [token(), token({ scope: 'a'.repeat(1025) })]],
      ['a cnf with neither x5t#S256 nor jkt', () => [token(), token({ cnf: {} })]],
      ['a cnf with both', () => [token(), token({ cnf: { 'x5t#S256': 'A'.repeat(43), jkt: 'A'.repeat(43) } })]],
      ['a cnf thumbprint that is not 43 base64url characters', () => [token(), token({ cnf: { jkt: 'A'.repeat(42) + '=' } })]],
      ['a cnf with an unknown member', () => [token(), token({ cnf: { jkt: 'A'.repeat(43), kid: 'x' } })]],
      ['issued_at without offset', () => [token(), token({ issued_at: '2026-01-01T00:00:00' })]],
      ['issued_at more than a minute ahead of the gateway’s clock', () => [token(), token({ issued_at: new Date(Date.now() + 5 * 60_000).toISOString() })]],
      ['issued_at after expires_at', () => [token(), token({ issued_at: '2099-01-01T00:00:00Z', expires_at: '2098-01-01T00:00:00Z' })]],
    ])('refuses a batch with %s: 400 and nothing stored', async (_name, build) => {
      const tokens = build();
      const response = await gw.admin('POST', '/admin/tokens', { tokens });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect((await status(tokens[0].token as string)).status).toBe(404);
    });

    it('names the position of the faulty entry in the request, repeats included', async () => {
      const t = token();
      const response = await gw.admin('POST', '/admin/tokens', { tokens: [t, { ...t }, token({ refresh_token: 'never-registered' })] });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toBe('tokens[2].refresh_token is not registered');
    });

    it('accepts the same token twice in one call when both entries agree, and refuses them when they differ', async () => {
      const t = token();
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [t, { ...t }] })).body).toEqual({ registered: 1 });
      const u = token();
      const response = await gw.admin('POST', '/admin/tokens', { tokens: [u, { ...u, client_id: 'tpp-2' }] });
      expect(response.status).toBe(400);
      expect((await status(u.token)).status).toBe(404);
    });

    it('cannot repoint a stored token: re-registering another client’s access token as my refresh token fails', async () => {
      const victim = token({ client_id: 'tpp' });
      await gw.admin('POST', '/admin/tokens', { tokens: [victim] });
      const response = await gw.admin('POST', '/admin/tokens', {
        tokens: [{ ...victim, token_type: 'refresh_token', client_id: 'tpp-2' }, token({ client_id: 'tpp-2', refresh_token: victim.token })],
      });
      expect(response.status).toBe(400);
      expect((await status(victim.token)).body).toMatchObject({ token_type: 'access_token', client_id: 'tpp', active: true });
    });

    it('puts an access token under its refresh token’s consent: inherited when absent, 400 when different', async () => {
      const rt = token({ token_type: 'refresh_token', consent_id: 'family-consent' });
      const child = token({ refresh_token: rt.token });
      await gw.admin('POST', '/admin/tokens', { tokens: [rt, child] });
      expect((await status(child.token)).body.consent_id).toBe('family-consent');
      const stray = token({ refresh_token: rt.token, consent_id: 'another-consent' });
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [stray] })).status).toBe(400);
    });

    it('keeps a consent to one client', async () => {
      await gw.admin('POST', '/admin/tokens', { tokens: [token({ consent_id: 'consent-owned' })] });
      const other = token({ client_id: 'tpp-2', consent_id: 'consent-owned' });
      const response = await gw.admin('POST', '/admin/tokens', { tokens: [other] });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toContain('belongs to another client');
      expect((await status(other.token)).status).toBe(404);
      const mixed = await gw.admin('POST', '/admin/tokens', { tokens: [token({ consent_id: 'c-new' }), token({ client_id: 'tpp-2', consent_id: 'c-new' })] });
      expect(mixed.status).toBe(400);
    });

    it('registers a token under a revoked parent or a revoked consent as revoked', async () => {
      const rt = token({ token_type: 'refresh_token', consent_id: 'consent-gone' });
      await gw.admin('POST', '/admin/tokens', { tokens: [rt] });
      await gw.admin('POST', '/admin/revocations', { consent_id: 'consent-gone' });
      const child = token({ refresh_token: rt.token });
      const sibling = token({ consent_id: 'consent-gone' });
      await gw.admin('POST', '/admin/tokens', { tokens: [child, sibling] });
      expect((await status(child.token)).body.active).toBe(false);
      expect((await status(sibling.token)).body.active).toBe(false);
    });

    it('refuses an empty batch and one over 10,000 tokens', async () => {
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [] })).status).toBe(400);
      const tooMany = Array.from({ length: 10001 }, (_, i) => ({ ...token(), token: `bulk-${i}` }));
      expect((await gw.admin('POST', '/admin/tokens', { tokens: tooMany })).status).toBe(400);
    });

    it('registers 10,000 tokens in one call', async () => {
      const tokens = Array.from({ length: 10000 }, (_, i) => ({ ...token(), token: `bulk-ok-${i}`, subject: 'psu-bulk' }));
      expect(await gw.admin('POST', '/admin/tokens', { tokens })).toMatchObject({ status: 201, body: { registered: 10000 } });
    });

    it('refuses malformed JSON with 400', async () => {
      const response = await fetch(`${gw.managementUrl}/admin/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"tokens": [',
      });
      expect(response.status).toBe(400);
      expect((await json(response)).error).toBe('invalid_request');
    });

    it('answers 404 for the status of an unknown token, and scopes status by tenant', async () => {
      expect((await status('never-registered')).status).toBe(404);
      const t = token();
      await gw.admin('POST', '/admin/tokens', { tokens: [t] });
      expect((await gw.admin('POST', '/admin/tokens/status', { token: t.token, tenant: 'bank-uk' })).status).toBe(404);
    });
  });

  describe('hostile input', () => {
    it.each([
      ['PUT', '/admin/clients/x', { tenant: null, auth_method: 'none' }],
      ['PUT', '/admin/clients/x', { auth_method: 'client_secret_basic', secret: null }],
      ['PUT', '/admin/clients/x', { auth_method: 'private_key_jwt', jwks: null }],
      ['PUT', '/admin/clients/x', { auth_method: 'none', name: 'a\u0000b' }],
      [
        'POST',
        '/admin/tokens',
        { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', refresh_token: null, expires_at: IN_A_YEAR }] },
      ],
      ['POST', '/admin/tokens', { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'a\u0000', expires_at: IN_A_YEAR }] }],
      [
        'POST',
        '/admin/tokens',
        { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: '9999-12-31T23:59:59+23:59' }] },
      ],
      ['POST', '/admin/tokens', { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: '2030-W01-1T00:00:00Z' }] }],
      [
        'POST',
        '/admin/tokens',
        { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: '2030-01-01T00:00:00,5Z' }] },
      ],
      ['POST', '/admin/tokens', { tokens: 'all of them' }],
      ['POST', '/admin/revocations', { subject: null }],
      ['POST', '/admin/revocations', { subject: 'psu-42', client_id: null }],
      ['POST', '/admin/revocations', { subject: 'a\u0000b' }],
      ['DELETE', '/admin/clients/x%00', undefined],
    ])('%s %s %j → 400, not 500 and not a silent no-op', async (method, path, body) => {
      const response = await gw.admin(method, path, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('names the field that is wrong, the type check first', async () => {
      expect((await gw.admin('POST', '/admin/tokens', {})).body.error_description).toBe('tokens must be an array');
      const nested = await gw.admin('POST', '/admin/tokens', { tokens: [token(), token({ expires_at: 'soon' })] });
      expect(nested.body.error_description).toMatch(/^tokens\[1\]\.expires_at /);
    });
  });

  describe('bulk revocation and audit', () => {
    it('revokes by subject, by client, by consent, and ANDs several criteria', async () => {
      await gw.admin('PUT', '/admin/clients/bulk-a', { auth_method: 'none' });
      await gw.admin('PUT', '/admin/clients/bulk-b', { auth_method: 'none' });
      const mk = (client_id: string, subject: string, consent_id: string) => token({ client_id, subject, consent_id });
      const tokens = [
        mk('bulk-a', 'alice', 'c-a1'),
        mk('bulk-a', 'alice', 'c-a2'),
        mk('bulk-a', 'bob', 'c-b1'),
        mk('bulk-b', 'bob', 'c-b2'),
        mk('bulk-b', 'carol', 'c-c1'),
        mk('bulk-b', 'carol', 'c-c1'),
      ];
      await gw.admin('POST', '/admin/tokens', { tokens });

      const id = '3b241101-e2bb-4255-8caf-4136c566a962';
      const bySubject = await fetch(`${gw.managementUrl}/admin/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-fapi-interaction-id': id },
        body: JSON.stringify({ subject: 'alice' }),
      });
      expect(bySubject.status).toBe(200);
      expect(await json(bySubject)).toEqual({ revoked: 2 });
      // repeated: nothing newly revoked
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'alice' })).body).toEqual({ revoked: 0 });
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'bob', client_id: 'bulk-b' })).body).toEqual({ revoked: 1 });
      expect((await status(tokens[2].token)).body.active).toBe(true);
      expect((await gw.admin('POST', '/admin/revocations', { consent_id: 'c-c1' })).body).toEqual({ revoked: 2 });
      expect((await gw.admin('POST', '/admin/revocations', { client_id: 'bulk-a' })).body).toEqual({ revoked: 1 });
      for (const t of tokens) expect((await status(t.token)).body.active).toBe(false);

      const events = await gw.admin('GET', `/admin/revocation-events?interaction_id=${id}`);
      expect(events.body.events).toEqual([
        {
          at: expect.any(String),
          interaction_id: id,
          tenant: 'default',
          client_id: null,
          profile: 'admin',
          token_type: null,
          level: null,
          revoked: 2,
          outcome: 'revoked',
          psu_ip: null,
        },
      ]);
    });

    it('refuses a bulk revocation without criteria and one for an unknown tenant', async () => {
      expect((await gw.admin('POST', '/admin/revocations', {})).status).toBe(400);
      expect((await gw.admin('POST', '/admin/revocations', { tenant: 'no-such-tenant', subject: 'x' })).status).toBe(400);
    });

    it('lists events newest first, filtered by client, bounded by limit', async () => {
      await gw.admin('PUT', '/admin/clients/audit-app', { auth_method: 'none' });
      for (let i = 0; i < 3; i++) await gw.post('/token/revoke', { token: `audit-${i}`, client_id: 'audit-app' });
      const { status: code, body } = await gw.admin('GET', '/admin/revocation-events?client_id=audit-app&limit=2');
      expect(code).toBe(200);
      expect(body.events).toHaveLength(2);
      expect(body.events.every((e: { client_id: string; outcome: string }) => e.client_id === 'audit-app' && e.outcome === 'unknown')).toBe(true);
      expect(Date.parse(body.events[0].at)).toBeGreaterThanOrEqual(Date.parse(body.events[1].at));
      expect((await gw.admin('GET', '/admin/revocation-events?limit=0')).status).toBe(400);
      expect((await gw.admin('GET', '/admin/revocation-events?interaction_id=nope')).status).toBe(400);
    });
  });
});
