import { IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { PostgresReplayStore } from '../../src/client-auth/replay-store';
import { assertionForm, clientAssertion, ISSUER, JwksServer, signingKey, type SigningKey } from '../support/keys';

/** RFC 7523 client authentication as docs/api.md §5 tightens it, on the rfc7009 and fapi routes. */
describe('private_key_jwt', () => {
  let gw: TestGateway;
  const keys: Record<string, SigningKey> = {};
  const jwks = new JwksServer();

  beforeAll(async () => {
    for (const alg of ['PS256', 'ES256', 'EdDSA', 'RS256']) keys[alg] = await signingKey(alg);
    keys.rotated = await signingKey('ES256');
    await jwks.start();
    jwks.keys = [keys.ES256.publicJwk];
    // A small pool: one jti statement at a time, so assertions in flight together share one.
    gw = await startTestGateway({ DATABASE_POOL_SIZE: '4' });
    const all = { keys: ['PS256', 'ES256', 'EdDSA', 'RS256'].map((alg) => keys[alg].publicJwk) };
    await gw.admin('PUT', '/admin/clients/jwt-app', { auth_method: 'private_key_jwt', jwks: all });
    await gw.admin('PUT', '/admin/clients/uri-app', { auth_method: 'private_key_jwt', jwks_uri: jwks.url });
    await gw.admin('PUT', '/admin/clients/secret-app', { auth_method: 'client_secret_post', secret: 'secret-app-secret' });
  });
  afterAll(async () => {
    await gw.stop();
    await jwks.stop();
  });

  async function token(clientId = 'jwt-app'): Promise<string> {
    const value = newToken();
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token: value, token_type: 'access_token', client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR }],
    });
    return value;
  }

  async function active(value: string): Promise<boolean> {
    return (await gw.admin('POST', '/admin/tokens/status', { token: value })).body.active;
  }

  describe('accepted', () => {
    it.each(['PS256', 'ES256', 'EdDSA', 'RS256'])('an assertion signed with %s on /token/revoke', async (alg) => {
      const value = await token();
      const response = await gw.post('/token/revoke', { token: value, ...assertionForm(await clientAssertion(keys[alg], 'jwt-app')) });
      expect(response.status).toBe(200);
      expect(await active(value)).toBe(false);
    });

    it.each(['PS256', 'ES256', 'EdDSA'])('an assertion signed with %s on /token/revocation (204)', async (alg) => {
      const value = await token();
      const assertion = await clientAssertion(keys[alg], 'jwt-app', { aud: `${ISSUER}/token/revocation` });
      const response = await gw.post('/token/revocation', { token: value, ...assertionForm(assertion) });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(await active(value)).toBe(false);
    });

    it('aud as an array that contains the issuer, and a matching client_id field', async () => {
      const assertion = await clientAssertion(keys.ES256, 'jwt-app', { aud: ['https://elsewhere.example', ISSUER] });
      const response = await gw.post('/token/revoke', { token: await token(), ...assertionForm(assertion, { client_id: 'jwt-app' }) });
      expect(response.status).toBe(200);
    });

    it('an empty client_id field next to the assertion: as if omitted (RFC 6749 §3.2)', async () => {
      const response = await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'jwt-app'), { client_id: '' }) });
      expect(response.status).toBe(200);
    });

    it('an assertion without iat, within 60 minutes of now', async () => {
      const assertion = await clientAssertion(keys.ES256, 'jwt-app', { iat: undefined, exp: Math.floor(Date.now() / 1000) + 3500 });
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
    });

    it('keys from jwks_uri, fetched once and cached', async () => {
      const before = jwks.fetches;
      for (let i = 0; i < 3; i++) {
        const response = await gw.post('/token/revoke', { token: await token('uri-app'), ...assertionForm(await clientAssertion(keys.ES256, 'uri-app')) });
        expect(response.status).toBe(200);
      }
      expect(jwks.fetches - before).toBeLessThanOrEqual(1);
    });
  });

  describe('refused with 401 invalid_client', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ['an expired assertion', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { iat: now() - 120, exp: now() - 30 }))],
      ['iat in the future', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { iat: now() + 60, exp: now() + 120 }))],
      ['nbf in the future', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { nbf: now() + 60 }))],
      ['a lifetime over 60 minutes', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { exp: now() + 3700 }))],
      ['no exp', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { exp: undefined }))],
      ['no jti', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { jti: undefined }))],
      [
        'a jti with a lone surrogate (not storable as sent)',
        async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { jti: `lone-\uD800-${Date.now()}` })),
      ],
      ['a jti with NUL', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { jti: `nul-\u0000-${Date.now()}` }))],
      ['a wrong aud', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { aud: 'https://other-as.example' }))],
      ['the aud of another endpoint', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { aud: `${ISSUER}/token/revocation` }))],
      ['iss different from sub', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { iss: 'someone-else' }))],
      ['a client_id field naming another client', async () => assertionForm(await clientAssertion(keys.ES256, 'jwt-app'), { client_id: 'uri-app' })],
      ['an unknown kid', async () => assertionForm(await clientAssertion(keys.rotated, 'jwt-app'))],
      ['a key of another client', async () => assertionForm(await clientAssertion(keys.PS256, 'uri-app'))],
      [
        'alg none',
        async () => {
          const [, payload] = (await clientAssertion(keys.ES256, 'jwt-app')).split('.');
          return assertionForm(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`);
        },
      ],
      [
        'HS256 with the public key as secret',
        async () => {
          const [, payload] = (await clientAssertion(keys.ES256, 'jwt-app')).split('.');
          return assertionForm(`${Buffer.from(`{"alg":"HS256","kid":"${keys.ES256.kid}"}`).toString('base64url')}.${payload}.c2ln`);
        },
      ],
      [
        'a tampered payload',
        async () => {
          const [h, , s] = (await clientAssertion(keys.ES256, 'jwt-app')).split('.');
          const forged = Buffer.from(JSON.stringify({ iss: 'jwt-app', sub: 'jwt-app', aud: ISSUER, exp: now() + 60, jti: 'x' })).toString('base64url');
          return assertionForm(`${h}.${forged}.${s}`);
        },
      ],
      ['not a JWT', async () => assertionForm('not-a-jwt')],
      [
        'a wrong client_assertion_type',
        async () => ({ client_assertion_type: 'urn:example:saml', client_assertion: await clientAssertion(keys.ES256, 'jwt-app') }),
      ],
      ['an assertion for a client registered with a secret', async () => assertionForm(await clientAssertion(keys.ES256, 'secret-app'))],
    ];

    it.each(cases)('%s', async (_name, form) => {
      const response = await gw.post('/token/revoke', { token: 'x', ...(await form()) });
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual({ error: 'invalid_client', error_description: 'client authentication failed', client_auth_id: expect.any(String) });
      expect(response.headers.get('www-authenticate')).toBeNull();
    });

    it('a replayed assertion (same jti)', async () => {
      const assertion = await clientAssertion(keys.ES256, 'jwt-app');
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
    });

    it('a replay inside the clock-skew allowance after exp', async () => {
      const assertion = await clientAssertion(keys.ES256, 'jwt-app', { iat: now() - 60, exp: now() - 5 });
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
    });

    it('RS256 on the fapi route (FAPI 1.0 Advanced §8.6)', async () => {
      const assertion = await clientAssertion(keys.RS256, 'jwt-app', { aud: ISSUER });
      const response = await gw.post('/token/revocation', { token: await token(), ...assertionForm(assertion) });
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual({ errors: ['client authentication failed'] });
    });

    it('the same assertion many times at once: exactly one is accepted, wherever the copies land', async () => {
      const assertions = await Promise.all(Array.from({ length: 2 }, () => clientAssertion(keys.ES256, 'jwt-app')));
      const copies = Array.from({ length: 20 }, () => assertions).flat();
      const statuses = await Promise.all(
        copies.map((assertion) => gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) }).then((r) => r.status)),
      );
      for (const assertion of assertions) {
        expect(statuses.filter((status, i) => copies[i] === assertion).sort()).toEqual([200, ...Array.from({ length: 19 }, () => 401)]);
      }
    });

    it('records uses submitted together as one batch: a key named twice in it is a first use once', async () => {
      // Submitted in one tick: the first goes alone, the rest wait and go together.
      const store = new PostgresReplayStore(gw.database.dataSource, {
        databaseUrl: 'postgres://batch',
        database: { poolSize: 4, connectTimeoutMs: 2000, statementTimeoutMs: 5000, lockTimeoutMs: 1000 },
      });
      const until = now() + 60;
      const keys = ['a', 'b', 'a', 'c', 'b', 'a', 'd'].map((jti) => [`batch-${jti}-${until}`, jti === 'd' ? 'uri-app' : 'jwt-app'] as const);
      const first = await Promise.all(keys.map(([jti, client]) => store.firstUse('default', client, jti, until)));
      expect(first).toEqual([true, true, false, true, false, false, true]);
      expect(await Promise.all(keys.map(([jti, client]) => store.firstUse('default', client, jti, until)))).toEqual(keys.map(() => false));
      // A key named twice in one batch keeps the first use's expiry, not a later copy's.
      const [, , late] = await Promise.all([
        store.firstUse('default', 'jwt-app', `blocker-${until}`, until),
        store.firstUse('default', 'jwt-app', `expiry-${until}`, until + 600),
        store.firstUse('default', 'jwt-app', `expiry-${until}`, until - 120),
      ]);
      expect(late).toBe(false);
      const [row] = await gw.database.dataSource.query(`SELECT extract(epoch FROM expires_at)::int AS until FROM client_assertion_jtis WHERE jti = $1`, [
        `expiry-${until}`,
      ]);
      expect(row.until).toBe(until + 600);
    });

    it('a jti beyond ASCII (a surrogate pair) is recorded as sent: accepted once, then a replay', async () => {
      const assertion = await clientAssertion(keys.ES256, 'jwt-app', { jti: `pair-\u{1F511}-é-${Date.now()}` });
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
    });

    it('the same jti from two clients is not a replay', async () => {
      const jti = 'shared-jti-value';
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'jwt-app', { jti })) })).status).toBe(200);
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'uri-app', { jti })) })).status).toBe(200);
    });
  });

  describe('jwks_uri caching and rotation', () => {
    const rotating = new JwksServer();
    beforeAll(() => rotating.start());
    afterAll(() => rotating.stop());

    it('refuses a new kid while the cached set is fresh and was fetched under a minute ago, without refetching', async () => {
      rotating.keys = [keys.ES256.publicJwk];
      await gw.admin('PUT', '/admin/clients/rotating-app', { auth_method: 'private_key_jwt', jwks_uri: rotating.url });
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'rotating-app')) })).status).toBe(200);
      expect(rotating.fetches).toBe(1);
      const fresh = await signingKey('ES256');
      rotating.keys = [keys.ES256.publicJwk, fresh.publicJwk];
      for (let i = 0; i < 3; i++) {
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(fresh, 'rotating-app')) })).status).toBe(401);
      }
      expect(rotating.fetches).toBe(1);
    });

    it('honours Cache-Control: with no-store every verification fetches, so a rotated key works at once', async () => {
      const uncached = new JwksServer();
      await uncached.start();
      try {
        uncached.cacheControl = 'no-store';
        uncached.keys = [keys.ES256.publicJwk];
        await gw.admin('PUT', '/admin/clients/uncached-app', { auth_method: 'private_key_jwt', jwks_uri: uncached.url });
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'uncached-app')) })).status).toBe(200);
        const fresh = await signingKey('ES256');
        uncached.keys = [fresh.publicJwk];
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(fresh, 'uncached-app')) })).status).toBe(200);
        expect(uncached.fetches).toBe(2);
      } finally {
        await uncached.stop();
      }
    });

    it('refuses when the jwks_uri fails, and recovers when it answers again', async () => {
      const flaky = new JwksServer();
      await flaky.start();
      try {
        flaky.cacheControl = 'no-store';
        flaky.keys = [keys.ES256.publicJwk];
        flaky.status = 500;
        await gw.admin('PUT', '/admin/clients/flaky-app', { auth_method: 'private_key_jwt', jwks_uri: flaky.url });
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'flaky-app')) })).status).toBe(401);
        // A failed fetch is the answer for a second (FAILED_FETCH_HOLD_MS): the key server is not asked once per request.
        const fetches = flaky.fetches;
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'flaky-app')) })).status).toBe(401);
        expect(flaky.fetches).toBe(fetches);
        flaky.status = 200;
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(keys.ES256, 'flaky-app')) })).status).toBe(200);
      } finally {
        await flaky.stop();
      }
    });
  });
});
