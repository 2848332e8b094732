import { createHmac, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AccessTokenIssuer, b64 } from '../support/access-tokens';
import { FakeUpstream } from '../support/fake-upstream';
import { basic, checkToken, deniedWithin, json, newToken, startReplicas, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { sample, scrape } from '../support/metrics';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

const AS = 'https://as.bank.example';
const RS = { authorization: basic('rs', 'rs-secret-value') };
const TPP = { authorization: basic('tpp', 'tpp-secret-value') };
const OTHER = { authorization: basic('other', 'other-secret-value') };
const INACTIVE = '{"active":false}';
const CHALLENGE = 'Bearer error="invalid_token"';
const now = () => Math.floor(Date.now() / 1000);

/**
 * docs/api.md §11.3: JWT access tokens (RFC 9068) that nobody registered, known by the signature
 * of the tenant's authorization server, against the real database: introspection and the check
 * answer for them, their own client revokes them (denylisted by hash), bulk and consent
 * revocations rule them out, and every trick a forger has is an unknown token.
 */
describe('JWT access tokens', () => {
  const as = new AccessTokenIssuer(AS);
  const bankB = new AccessTokenIssuer('https://as.bank-b.example');
  const upstream = new FakeUpstream();
  let gw: TestGateway;
  let cdrKey: SigningKey;

  beforeAll(async () => {
    await Promise.all([as.start(), bankB.start(), upstream.up()]);
    cdrKey = await signingKey('PS256');
    gw = await startTestGateway({
      ACCESS_TOKEN_JWKS_URI: as.jwks.url,
      ACCESS_TOKEN_ISSUER: AS,
      UPSTREAM_REVOCATION_URL: upstream.url,
      UPSTREAM_CLIENT_ID: 'gateway',
      UPSTREAM_CLIENT_SECRET: 'gateway-secret-value',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      UPSTREAM_BREAKER_FAILURES: '1000',
    });
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example', access_token_jwks_uri: bankB.jwks.url });
    for (const tenant of ['default', 'bank-b']) {
      await gw.admin('PUT', '/admin/clients/rs', { tenant, auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
      await gw.admin('PUT', '/admin/clients/tpp', { tenant, auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    }
    await gw.admin('PUT', '/admin/clients/other', { auth_method: 'client_secret_basic', secret: 'other-secret-value' });
    await gw.admin('PUT', '/admin/clients/cdr-tpp', { auth_method: 'private_key_jwt', jwks: { keys: [cdrKey.publicJwk] } });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([as.stop(), bankB.stop(), upstream.down()]);
  });

  const introspect = (token: string, headers: Record<string, string> = {}) => gw.post('/token/introspect', { token }, { ...RS, ...headers });
  const check = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const revoke = (token: string, headers: Record<string, string> = TPP) => gw.post('/token/revoke', { token }, headers);
  const events = async (clientId: string) => (await gw.admin('GET', `/admin/revocation-events?client_id=${clientId}&limit=1`)).body.events;

  async function expectInactive(token: string, headers: Record<string, string> = {}): Promise<void> {
    const response = await introspect(token, headers);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INACTIVE);
  }

  async function expectActive(token: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const response = await introspect(token, headers);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.active).toBe(true);
    return body;
  }

  describe('known by their signature', () => {
    it.each(['RS256', 'PS256', 'ES256', 'EdDSA'])('%s: introspection answers its claims, iss its own', async (alg) => {
      const claims = as.claims('tpp', { consent_id: 'consent-9', sub: 'psu-7', scope: 'accounts payments' });
      const token = await as.mint('tpp', claims, { alg });
      expect(await expectActive(token)).toEqual({
        active: true,
        token_use: 'access_token',
        token_type: 'Bearer',
        client_id: 'tpp',
        exp: claims.exp,
        iat: claims.iat,
        iss: AS,
        sub: 'psu-7',
        scope: 'accounts payments',
        jti: claims.jti,
        consent_id: 'consent-9',
      });
    });

    it('typ application/at+jwt is the same; a DPoP-bound token is token_type DPoP with its cnf', async () => {
      const jkt = b64(randomBytes(32));
      const token = await as.mint('tpp', { cnf: { jkt } }, { header: { typ: 'application/at+jwt' } });
      const body = await expectActive(token);
      expect(body).toMatchObject({ token_type: 'DPoP', cnf: { jkt } });
      expect(body).not.toHaveProperty('grant_id');
    });

    it('the check allows it with its credential headers, and the DPoP key thumbprint', async () => {
      const jkt = b64(randomBytes(32));
      const claims = as.claims('tpp', { consent_id: 'c-1', cnf: { jkt } });
      const response = await check(await as.mint('tpp', claims, { alg: 'ES256' }));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-credential-client-id')).toBe('tpp');
      expect(response.headers.get('x-credential-sub')).toBe('psu-1');
      expect(response.headers.get('x-credential-scope')).toBe('accounts');
      expect(response.headers.get('x-credential-exp')).toBe(String(claims.exp));
      expect(response.headers.get('x-credential-consent-id')).toBe('c-1');
      expect(response.headers.get('x-credential-cnf-jkt')).toBe(jkt);
    });

    it('a certificate-bound JWT without its certificate is denied at the check', async () => {
      const response = await check(await as.mint('tpp', { cnf: { 'x5t#S256': b64(randomBytes(32)) } }));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(CHALLENGE);
    });

    it('within the 10 s skew an expired token still stands; past it, it does not', async () => {
      await expectActive(await as.mint('tpp', { exp: now() - 5 }));
      await expectInactive(await as.mint('tpp', { exp: now() - 15 }));
    });

    it("a tenant's tokens are known in that tenant only (its issuer and its keys)", async () => {
      const token = await bankB.mint('tpp', {}, { alg: 'RS256' });
      expect((await expectActive(token, { 'tenant-id': 'bank-b' })).iss).toBe('https://as.bank-b.example');
      await expectInactive(token);
      await expectInactive(await as.mint('tpp'), { 'tenant-id': 'bank-b' });
      expect((await check(token, { 'tenant-id': 'bank-b' })).status).toBe(200);
      expect((await check(token)).status).toBe(401);
    });
  });

  describe('what is not a known access token is inactive (unknown)', () => {
    const rsaPublicPem = () => createPublicKey({ key: as.keys.get('RS256')!.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hmac = (header: object, payload: object, secret: Buffer | string) => {
      const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };

    it.each([
      ['alg none', () => `${b64(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${b64(JSON.stringify(as.claims('tpp')))}.`],
      ['alg none with a signature', () => `${b64(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${b64(JSON.stringify(as.claims('tpp')))}.AAAA`],
      [
        'HS256 keyed with the RSA public key (key confusion)',
        () => hmac({ alg: 'HS256', typ: 'at+jwt', kid: as.keys.get('RS256')!.kid }, as.claims('tpp'), rsaPublicPem() as string),
      ],
      [
        'HS256 keyed with the modulus',
        () => hmac({ alg: 'HS256', typ: 'at+jwt' }, as.claims('tpp'), Buffer.from(as.keys.get('RS256')!.publicJwk.n!, 'base64url')),
      ],
      ['typ JWT', () => as.mint('tpp', {}, { header: { typ: 'JWT' } })],
      ['no typ', () => as.mint('tpp', {}, { header: { typ: undefined } })],
      ['another issuer', () => as.mint('tpp', { iss: 'https://evil.example' })],
      ['no client_id', () => as.mint('tpp', { client_id: undefined })],
      ['client_id not a string', () => as.mint('tpp', { client_id: 42 })],
      ['sub not a string', () => as.mint('tpp', { sub: ['psu-1'] })],
      ['a cnf the gateway cannot honour', () => as.mint('tpp', { cnf: { jwk: { kty: 'EC' } } })],
      ['no exp', () => as.mint('tpp', { exp: undefined })],
      ['no iat (nothing would bound how long it lives)', () => as.mint('tpp', { iat: undefined })],
      ['living longer than ACCESS_TOKEN_MAX_LIFETIME_S', () => as.mint('tpp', { exp: now() + 3601 })],
      ['issued in the future', () => as.mint('tpp', { iat: now() + 60, exp: now() + 120 })],
      ['not yet valid (nbf)', () => as.mint('tpp', { nbf: now() + 60 })],
      ['a kid the keys do not have', () => as.mint('tpp', {}, { header: { kid: 'nobody' } })],
      ['an RS256 kid on an ES256 token', () => as.mint('tpp', {}, { alg: 'ES256', header: { kid: as.keys.get('RS256')!.kid } })],
      [
        'the payload changed after signing',
        async () => {
          const [header, , signature] = (await as.mint('tpp')).split('.');
          return `${header}.${b64(JSON.stringify(as.claims('tpp', { scope: 'everything' })))}.${signature}`;
        },
      ],
      [
        "signed by the forger's own key, named in the header (jwk)",
        async () => {
          const { privateKey, publicKey } = await generateKeyPair('ES256');
          const jwk = await exportJWK(publicKey);
          return new SignJWT(as.claims('tpp')).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk }).sign(privateKey);
        },
      ],
      [
        "signed by the forger's key, its set named in the header (jku)",
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          return new SignJWT(as.claims('tpp')).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jku: 'https://evil.example/jwks' }).sign(privateKey);
        },
      ],
    ])('%s', async (_name, make) => {
      const token = await make();
      await expectInactive(token);
      const denied = await check(token);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe(CHALLENGE);
    });

    it('a symmetric key published in the set verifies nothing (it is dropped)', async () => {
      const secret = randomBytes(32);
      const kid = `oct-${randomUUID()}`;
      const issuer = new AccessTokenIssuer('https://as.oct.example');
      await issuer.start();
      issuer.jwks.keys = [{ kty: 'oct', k: b64(secret), kid, alg: 'HS256' }, ...issuer.jwks.keys];
      try {
        await gw.admin('PUT', '/admin/tenants/oct', { issuer: 'https://as.oct.example', access_token_jwks_uri: issuer.jwks.url });
        await gw.admin('PUT', '/admin/clients/rs', { tenant: 'oct', auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
        const token = await new SignJWT(issuer.claims('tpp')).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(secret);
        await expectInactive(token, { 'tenant-id': 'oct' });
        await expectActive(await issuer.mint('tpp'), { 'tenant-id': 'oct' });
      } finally {
        await issuer.stop();
      }
    });
  });

  describe('revoked by their own client', () => {
    it('is denylisted: 200, then inactive at introspection and the check, audited, propagated, recorded until its exp', async () => {
      const claims = as.claims('tpp', { sub: 'psu-denied' });
      const token = await as.mint('tpp', claims);
      expect((await check(token)).status).toBe(200);
      const interactionId = randomUUID();
      const response = await revoke(token, { ...TPP, 'x-fapi-interaction-id': interactionId });
      expect(response.status).toBe(200);
      await expectInactive(token);
      expect((await check(token)).status).toBe(401);
      const [event] = await events('tpp');
      expect(event).toMatchObject({
        interaction_id: interactionId,
        client_id: 'tpp',
        profile: 'rfc7009',
        token_type: 'access_token',
        level: 'NONE',
        revoked: 1,
        outcome: 'revoked',
      });
      // The presented token goes upstream (docs/api.md §6).
      const seen = await eventually(async () => upstream.seen.find((request) => request.form.get('token') === token));
      expect(seen.form.get('token_type_hint')).toBe('access_token');
      const status = await gw.admin('POST', '/admin/tokens/status', { token });
      expect(status.body).toMatchObject({
        token_type: 'access_token',
        client_id: 'tpp',
        grant_id: claims.jti,
        active: false,
        expires_at: new Date((claims.exp as number) * 1000).toISOString(),
      });
      expect(status.body.revoked_at).not.toBeNull();
      // Revoking it again is a success that revokes nothing new (RFC 7009 §2.2).
      expect((await revoke(token)).status).toBe(200);
      expect((await events('tpp'))[0]).toMatchObject({ revoked: 0, outcome: 'revoked' });
    });

    it('reaches nothing beyond the token, whatever the level asked', async () => {
      const consent = `consent-${randomUUID()}`;
      const sibling = newToken('at');
      await gw.admin('POST', '/admin/tokens', {
        tokens: [
          {
            token: sibling,
            token_type: 'access_token',
            client_id: 'tpp',
            grant_id: 'g',
            consent_id: consent,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
          },
        ],
      });
      const token = await as.mint('tpp', { consent_id: consent });
      // The oam profile takes a level: the broadest there is.
      const response = await gw.post('/oauth2/rest/token/revoke', { token, token_type_hint: 'ACCESS_TOKEN', revocation_level: 'RELATED_CONSENT' }, TPP);
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ status: 'success' });
      await expectInactive(token);
      expect((await events('tpp'))[0]).toMatchObject({ profile: 'oam', level: 'NONE', revoked: 1 });
      await expectActive(sibling);
      expect(await expectActive(await as.mint('tpp', { consent_id: consent }))).toMatchObject({ consent_id: consent });
    });

    it("another client's token is that profile's foreign answer, audited, and stays active", async () => {
      const token = await as.mint('tpp');
      const response = await revoke(token, OTHER);
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: 'invalid_request', error_description: 'the token was not issued to this client' });
      expect((await events('other'))[0]).toMatchObject({ outcome: 'foreign', revoked: 0 });
      await expectActive(token);
    });

    it('a JWT that does not verify is an unknown token: 200, nothing denylisted', async () => {
      const [header, payload] = (await as.mint('tpp')).split('.');
      const forged = `${header}.${payload}.${b64(randomBytes(256))}`;
      expect((await revoke(forged)).status).toBe(200);
      expect((await events('tpp'))[0]).toMatchObject({ outcome: 'unknown' });
      expect((await gw.admin('POST', '/admin/tokens/status', { token: forged })).status).toBe(404);
    });
  });

  describe('rules of bulk and consent revocations', () => {
    it('a bulk revocation by subject rules out the tokens issued before it, not those after, nor other subjects', async () => {
      const before = await as.mint('tpp', { sub: 'psu-closing' });
      const otherSubject = await as.mint('tpp', { sub: 'psu-staying' });
      expect((await check(before)).status).toBe(200);
      const response = await gw.admin('POST', '/admin/revocations', { subject: 'psu-closing' });
      expect(response.status).toBe(200);
      await expectInactive(before);
      expect((await check(before)).status).toBe(401);
      await expectActive(otherSubject);
      // Issued after the rule (iat is in whole seconds: the next second).
      const after = await as.mint('tpp', { sub: 'psu-closing', iat: now() + 1 });
      await expectActive(after);
    });

    it('criteria combine with AND', async () => {
      const mine = await as.mint('tpp', { sub: 'psu-and' });
      const others = await as.mint('other', { sub: 'psu-and' });
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-and', client_id: 'other' })).status).toBe(200);
      await expectActive(mine);
      await expectInactive(others);
    });

    it('a bulk revocation by client or consent rules out their tokens', async () => {
      const offboarded = await as.mint('tpp', { client_id: 'offboarded' });
      const consent = `consent-${randomUUID()}`;
      const ofConsent = await as.mint('tpp', { consent_id: consent });
      expect((await gw.admin('POST', '/admin/revocations', { client_id: 'offboarded' })).status).toBe(200);
      expect((await gw.admin('POST', '/admin/revocations', { consent_id: consent })).status).toBe(200);
      await expectInactive(offboarded);
      await expectInactive(ofConsent);
    });

    it("a cdr arrangement revocation rules out the client's tokens of that consent, even one the gateway never registered", async () => {
      const consent = `arrangement-${randomUUID()}`;
      const token = await as.mint('cdr-tpp', { consent_id: consent });
      const foreign = await as.mint('tpp', { consent_id: consent });
      await expectActive(token);
      const route = '/arrangements/revoke';
      const form = { cdr_arrangement_id: consent, ...assertionForm(await clientAssertion(cdrKey, 'cdr-tpp', { aud: ISSUER + route })) };
      const response = await gw.post(route, form);
      expect(response.status).toBe(422);
      await expectInactive(token);
      // Only the revoking client's tokens: another client's with the same claim stand.
      await expectActive(foreign);
    });

    it('a revocation that matches no JWT leaves the others alone', async () => {
      const token = await as.mint('tpp', { sub: 'psu-untouched' });
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-nobody' })).status).toBe(200);
      await expectActive(token);
    });
  });

  describe('key rotation', () => {
    it('a token signed with a key published after the last fetch: its revocation waits for the keys to be fetched again (at most every 5 s), then records it', async () => {
      const rotating = new AccessTokenIssuer('https://as.rotating.example');
      await rotating.start();
      try {
        await gw.admin('PUT', '/admin/tenants/rotating', { issuer: 'https://as.rotating.example', access_token_jwks_uri: rotating.jwks.url });
        await gw.admin('PUT', '/admin/clients/tpp', { tenant: 'rotating', auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
        await gw.admin('PUT', '/admin/clients/rs', {
          tenant: 'rotating',
          auth_method: 'client_secret_basic',
          secret: 'rs-secret-value',
          role: 'resource_server',
        });
        const tenant = { 'tenant-id': 'rotating' };
        await expectActive(await rotating.mint('tpp'), tenant); // the keys are fetched and cached (5 min)
        const key = await signingKey('PS256');
        rotating.keys.set('PS256', key);
        rotating.jwks.keys = [...rotating.jwks.keys, key.publicJwk];
        const token = await rotating.mint('tpp');
        const fetches = rotating.jwks.fetches;
        // Introspection does not fetch again for an unknown kid within a minute: unknown meanwhile.
        expect(await (await introspect(token, tenant)).text()).toBe(INACTIVE);
        expect(rotating.jwks.fetches).toBe(fetches);
        // The revocation may not answer "unknown" for what may be a new key: within 5 s of the
        // last fetch it is to be retried, with nothing recorded.
        const waiting = await revoke(token, { ...TPP, ...tenant });
        expect(waiting.status).toBe(503);
        expect((await json(waiting)).error).toBe('temporarily_unavailable');
        const retryAfter = Number(waiting.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(5);
        expect((await gw.admin('POST', '/admin/tokens/status', { tenant: 'rotating', token })).status).toBe(404);
        expect(rotating.jwks.fetches).toBe(fetches);
        // Retried when told: the keys are fetched again, the token is recorded.
        await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
        expect((await revoke(token, { ...TPP, ...tenant })).status).toBe(200);
        expect(rotating.jwks.fetches).toBe(fetches + 1);
        expect((await gw.admin('POST', '/admin/tokens/status', { tenant: 'rotating', token })).body).toMatchObject({ active: false });
        await expectInactive(token, tenant);
        // A kid nobody publishes, checked against keys fetched after it was asked: an unknown token (200).
        await new Promise((resolve) => setTimeout(resolve, 5000));
        expect((await revoke(await rotating.mint('tpp', {}, { header: { kid: 'nobody' } }), { ...TPP, ...tenant })).status).toBe(200);
        expect(rotating.jwks.fetches).toBe(fetches + 2);
      } finally {
        await rotating.stop();
      }
    }, 30_000);

    it("another tenant cannot take the default tenant's access-token issuer", async () => {
      const response = await gw.admin('PUT', '/admin/tenants/copycat', { issuer: AS, access_token_jwks_uri: as.jwks.url });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toMatch(/access-token issuer/);
    });
  });

  describe('when the keys cannot be had', () => {
    it('jwks_uri failing: introspection 502, check 503, revocation 502 with nothing recorded; a timeout is 504', async () => {
      const down = new AccessTokenIssuer('https://as.down.example');
      await down.start();
      try {
        await gw.admin('PUT', '/admin/tenants/down', { issuer: 'https://as.down.example', access_token_jwks_uri: down.jwks.url });
        for (const client of ['rs', 'tpp']) {
          const role = client === 'rs' ? { role: 'resource_server' } : {};
          await gw.admin('PUT', `/admin/clients/${client}`, { tenant: 'down', auth_method: 'client_secret_basic', secret: `${client}-secret-value`, ...role });
        }
        const token = await down.mint('tpp');
        const tenant = { 'tenant-id': 'down' };
        down.jwks.status = 500;
        const fetches = down.jwks.fetches;
        const introspection = await introspect(token, tenant);
        expect(introspection.status).toBe(502);
        expect((await json(introspection)).error).toBe('bad_gateway');
        expect(introspection.headers.get('x-fapi-interaction-id')).toBeTruthy();
        const checked = await check(token, tenant);
        expect(checked.status).toBe(503);
        const before = (await gw.admin('GET', '/admin/revocation-events?client_id=tpp&limit=100')).body.events.length;
        const revocation = await revoke(token, { ...TPP, ...tenant });
        expect(revocation.status).toBe(502);
        expect((await gw.admin('GET', '/admin/revocation-events?client_id=tpp&limit=100')).body.events.length).toBe(before);
        expect((await gw.admin('POST', '/admin/tokens/status', { tenant: 'down', token })).status).toBe(404);
        // A key server that failed is not asked again for a second: one fetch for all of the above.
        expect(down.jwks.fetches).toBe(fetches + 1);
        // An opaque token needs no keys: unaffected.
        expect(await (await introspect(newToken(), tenant)).text()).toBe(INACTIVE);
        const afterHold = () => new Promise((resolve) => setTimeout(resolve, 1100));
        await afterHold();
        down.jwks.status = 200;
        down.jwks.delayMs = 2500;
        expect((await introspect(token, tenant)).status).toBe(504);
        await afterHold();
        down.jwks.delayMs = 0;
        expect((await introspect(token, tenant)).status).toBe(200);
        expect((await revoke(token, { ...TPP, ...tenant })).status).toBe(200);
        expect(await (await introspect(token, tenant)).text()).toBe(INACTIVE);
      } finally {
        await down.stop();
      }
    }, 20_000);
  });
});

/** docs/api.md §11.3: rules are dropped once every token they covered has expired, in the background. */
describe('revocation rules are pruned', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ACCESS_TOKEN_MAX_LIFETIME_S: '1' });
  });
  afterAll(() => gw.stop());
  const rules = async () => Number((await gw.database.dataSource.query('SELECT count(*)::int AS n FROM revocation_rules'))[0].n);

  it('a rule is kept its lifetime and margin, then deleted without any request', async () => {
    const recorded = Date.now();
    expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-pruned' })).status).toBe(200);
    expect(await rules()).toBe(1);
    const [{ seconds }] = await gw.database.dataSource.query('SELECT extract(epoch FROM expires_at - revoked_at)::int AS seconds FROM revocation_rules');
    expect(seconds).toBe(1 + 30);
    // Its time come (moved forward here rather than waited for), the pruner deletes it within its round.
    await gw.database.dataSource.query("UPDATE revocation_rules SET expires_at = now() - interval '1 second'");
    await eventually(async () => (await rules()) === 0, 5000, 'the rule pruned');
    expect(Date.now() - recorded).toBeLessThan(5000);
  });
});

const withServer = process.env.DATABASE_URL ? describe : describe.skip;

/** docs/api.md §11.6 for JWT access tokens: B holds one as active from its signature; A's revocation, or A's rule, reaches B within 1 s. */
withServer('JWT access tokens across replicas', () => {
  const as = new AccessTokenIssuer(AS);
  let replicas: Awaited<ReturnType<typeof startReplicas>>;

  beforeAll(async () => {
    await as.start();
    replicas = await startReplicas({ ACCESS_TOKEN_JWKS_URI: as.jwks.url, ACCESS_TOKEN_ISSUER: AS });
    await replicas.a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    for (const gw of [replicas.a, replicas.b]) {
      await eventually(async () => sample(await scrape(gw.managementUrl), 'revgw_token_status_feed_up') === 1, 5000, 'the status feed listening');
    }
  });
  afterAll(async () => {
    await replicas.stop();
    await as.stop();
  });

  const check = checkToken;

  it('a JWT revoked on A is denied on B within 1 s, though B knew it from memory', async () => {
    const { a, b } = replicas;
    const token = await as.mint('tpp');
    const hits = sample(await scrape(b.managementUrl), 'revgw_token_status_lookups_total{result="hit"}');
    expect((await check(b, token)).status).toBe(200);
    expect((await check(b, token)).status).toBe(200);
    expect(sample(await scrape(b.managementUrl), 'revgw_token_status_lookups_total{result="hit"}')).toBe(hits + 1);
    expect((await a.post('/token/revoke', { token }, TPP)).status).toBe(200);
    expect(await deniedWithin(b, token, 1000)).toBeLessThan(1000);
  });

  it("a bulk revocation's rule on A reaches B's memory within 1 s", async () => {
    const { a, b } = replicas;
    const token = await as.mint('tpp', { sub: 'psu-replicated' });
    expect((await check(b, token)).status).toBe(200);
    expect((await a.admin('POST', '/admin/revocations', { subject: 'psu-replicated' })).status).toBe(200);
    expect(await deniedWithin(b, token, 1000)).toBeLessThan(1000);
  });
});
