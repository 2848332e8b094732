import { randomBytes, randomUUID } from 'node:crypto';
import { FakeUpstream, type UpstreamBehaviour } from '../support/fake-upstream';
import { basic, json, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';

const RS = { authorization: basic('rs', 'rs-secret-value') };
const TPP = { authorization: basic('tpp', 'tpp-secret-value') };
const OTHER = { authorization: basic('other', 'other-secret-value') };
const INACTIVE = '{"active":false}';
const now = () => Math.floor(Date.now() / 1000);
const answer = (body: unknown, status = 200, delayMs = 0): UpstreamBehaviour => ({ kind: 'answer', status, body: JSON.stringify(body), delayMs });

/**
 * docs/api.md §11.4: tokens the gateway does not know are introspected at the upstream
 * authorization server, whose answer is passed on unchanged; what the gateway revoked is
 * inactive whatever the upstream says; failures are 502/504 (503 at the check), never an answer;
 * a revocation of such a token asks the upstream whose it is first.
 */
describe('upstream introspection overlay', () => {
  const introspection = new FakeUpstream();
  const revocation = new FakeUpstream();
  /** What the upstream says of each token; unlisted tokens are inactive. */
  const upstreamSays = new Map<string, UpstreamBehaviour>();
  let gw: TestGateway;

  beforeAll(async () => {
    await Promise.all([introspection.up(), revocation.up()]);
    introspection.behave = (seen) => upstreamSays.get(seen.form.get('token') ?? '') ?? answer({ active: false });
    gw = await startTestGateway({
      UPSTREAM_INTROSPECTION_URL: introspection.url,
      UPSTREAM_CLIENT_ID: 'gateway',
      UPSTREAM_CLIENT_SECRET: 'gateway-secret-value',
      UPSTREAM_TIMEOUT_MS: '500',
      UPSTREAM_BREAKER_FAILURES: '1000',
      INTROSPECTION_CACHE_MS: '30000',
      UPSTREAM_REVOCATION_URL: revocation.url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    await gw.admin('PUT', '/admin/clients/other', { auth_method: 'client_secret_basic', secret: 'other-secret-value' });
  });
  afterAll(async () => {
    await gw.stop();
    await Promise.all([introspection.down(), revocation.down()]);
  });

  const introspect = (token: string, headers: Record<string, string> = {}) => gw.post('/token/introspect', { token }, { ...RS, ...headers });
  const check = (token: string) => fetch(`${gw.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}` } });
  const revoke = (token: string, headers: Record<string, string> = TPP) => gw.post('/token/revoke', { token }, headers);
  const lastEvent = async (clientId: string) => (await gw.admin('GET', `/admin/revocation-events?client_id=${clientId}&limit=1`)).body.events[0];
  const eventCount = async () => (await gw.admin('GET', '/admin/revocation-events?limit=1000')).body.events.length;

  /** A token the upstream says is active, with these members. */
  function upstreamToken(members: Record<string, unknown> = {}): { token: string; body: Record<string, unknown> } {
    const token = newToken('up');
    const body = {
      active: true,
      client_id: 'tpp',
      token_type: 'Bearer',
      exp: now() + 600,
      iat: now(),
      sub: 'psu-1',
      scope: 'accounts',
      iss: 'https://as.example',
      ...members,
    };
    upstreamSays.set(token, answer(body));
    return { token, body };
  }

  describe('introspection', () => {
    it("passes the upstream's active answer on unchanged, asked with the gateway's credentials and the caller's interaction id", async () => {
      const { token, body } = upstreamToken({ custom_claim: { nested: [1, 2] }, acr: 'urn:openbanking:psd2:sca' });
      const interactionId = randomUUID();
      const response = await introspect(token, { 'x-fapi-interaction-id': interactionId });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await json(response)).toEqual(body);
      const [seen] = introspection.requestsFor(token);
      expect(seen.headers.authorization).toBe(basic('gateway', 'gateway-secret-value'));
      expect(seen.headers['x-fapi-interaction-id']).toBe(interactionId);
      expect([...seen.form.keys()]).toEqual(['token']);
    });

    it('an inactive upstream answer is exactly {"active":false}, whatever else it says', async () => {
      const token = newToken('up');
      upstreamSays.set(token, answer({ active: false, reason: 'expired', client_id: 'tpp' }));
      const response = await introspect(token);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(INACTIVE);
    });

    it('an active answer whose exp has passed is inactive, here and at the check', async () => {
      const { token } = upstreamToken({ exp: now() - 5 });
      expect(await (await introspect(token)).text()).toBe(INACTIVE);
      expect((await check(token)).status).toBe(401);
    });

    it("the upstream is the default tenant's: another tenant never asks it", async () => {
      await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
      await gw.admin('PUT', '/admin/clients/rs', { tenant: 'bank-b', auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
      const { token } = upstreamToken();
      expect(await (await introspect(token, { 'tenant-id': 'bank-b' })).text()).toBe(INACTIVE);
      expect(introspection.requestsFor(token)).toHaveLength(0);
    });

    it('the same token asked many times at once is asked upstream once', async () => {
      const token = newToken('up');
      upstreamSays.set(token, answer({ active: true, client_id: 'tpp', exp: now() + 600 }, 200, 150));
      const answers = await Promise.all(Array.from({ length: 30 }, () => introspect(token).then((response) => response.status)));
      expect(answers.every((status) => status === 200)).toBe(true);
      expect(introspection.requestsFor(token)).toHaveLength(1);
    });

    it('a registered token is answered here: the upstream is not asked', async () => {
      const token = newToken('reg');
      await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
      expect((await json(await introspect(token))).grant_id).toBe('g');
      expect(introspection.requestsFor(token)).toHaveLength(0);
    });

    it('a positive answer is kept in memory, never past its exp; a negative one never', async () => {
      const { token } = upstreamToken();
      await introspect(token);
      await introspect(token);
      expect(introspection.requestsFor(token)).toHaveLength(1);
      const short = upstreamToken({ exp: now() + 1 });
      await introspect(short.token);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await introspect(short.token);
      expect(introspection.requestsFor(short.token)).toHaveLength(2);
      const inactive = newToken('up');
      await introspect(inactive);
      await introspect(inactive);
      expect(introspection.requestsFor(inactive)).toHaveLength(2);
    });

    it.each([
      ['a 503', 504, answer({ error: 'temporarily_unavailable' }, 503)],
      ['a 429', 504, answer({ error: 'slow_down' }, 429)],
      ['no answer in time', 504, answer({ active: true, client_id: 'tpp' }, 200, 800)],
      ['a 500', 502, answer({ error: 'server_error' }, 500)],
      ['a 401 (the gateway refused)', 502, answer({ error: 'invalid_client' }, 401)],
      ['a 400', 502, answer({ error: 'invalid_request' }, 400)],
      ['200 without JSON', 502, { kind: 'answer', status: 200, body: '<html>portal</html>', contentType: 'text/html' } as UpstreamBehaviour],
      ['200 without a boolean active', 502, answer({ active: 'true', client_id: 'tpp' })],
      ['a reset connection', 502, { kind: 'reset' } as UpstreamBehaviour],
    ])('upstream failure (%s): introspection %i, the check 503, never an answer', async (_name, status, behaviour) => {
      const token = newToken('up');
      upstreamSays.set(token, behaviour);
      const interactionId = randomUUID();
      const response = await introspect(token, { 'x-fapi-interaction-id': interactionId });
      expect(response.status).toBe(status);
      expect((await json(response)).error).toBe(status === 504 ? 'gateway_timeout' : 'bad_gateway');
      expect(response.headers.get('x-fapi-interaction-id')).toBe(interactionId);
      const checked = await check(token);
      expect(checked.status).toBe(503);
      expect(checked.headers.get('retry-after')).toBeTruthy();
    });
  });

  describe('the check', () => {
    it("allows an upstream-active access token with the answer's credentials; refuses its refresh tokens and a certificate binding it cannot see", async () => {
      const { token, body } = upstreamToken({ consent_id: 'c-7' });
      const allowed = await check(token);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('x-credential-client-id')).toBe('tpp');
      expect(allowed.headers.get('x-credential-sub')).toBe('psu-1');
      expect(allowed.headers.get('x-credential-scope')).toBe('accounts');
      expect(allowed.headers.get('x-credential-exp')).toBe(String(body.exp));
      expect(allowed.headers.get('x-credential-consent-id')).toBe('c-7');
      expect((await check(upstreamToken({ token_type: 'refresh_token' }).token)).status).toBe(401);
      expect((await check(upstreamToken({ cnf: { 'x5t#S256': 'A'.repeat(43) } }).token)).status).toBe(401);
      expect((await check(upstreamToken({ cnf: { jwk: { kty: 'EC' } } }).token)).status).toBe(401);
      expect((await check(upstreamToken({ cnf: { jkt: 'A'.repeat(43), 'x5t#S256': 42 } }).token)).status).toBe(401);
      for (const refresh of [{ token_type: 'Refresh' }, { typ: 'Refresh' }, { token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }]) {
        expect((await check(upstreamToken(refresh).token)).status).toBe(401);
      }
    });
  });

  describe('bulk and consent revocations', () => {
    it("rule out the upstream's tokens that match, as they do JWTs", async () => {
      const byClient = upstreamToken({ client_id: 'offboarded' });
      const byConsent = upstreamToken({ consent_id: 'c-withdrawn' });
      const other = upstreamToken({ client_id: 'staying' });
      for (const { token } of [byClient, byConsent, other]) expect((await check(token)).status).toBe(200);
      expect((await gw.admin('POST', '/admin/revocations', { client_id: 'offboarded' })).status).toBe(200);
      expect((await gw.admin('POST', '/admin/revocations', { consent_id: 'c-withdrawn' })).status).toBe(200);
      expect(await (await introspect(byClient.token)).text()).toBe(INACTIVE);
      expect((await check(byConsent.token)).status).toBe(401);
      expect((await check(other.token)).status).toBe(200);
    });
  });

  describe('revocation of a token only the upstream knows', () => {
    it("the caller's own: revoked here (denylisted until its exp), audited, propagated; then inactive without asking upstream", async () => {
      const { token, body } = upstreamToken({ jti: 'jti-1' });
      expect((await introspect(token)).status).toBe(200); // cached here now
      const response = await revoke(token);
      expect(response.status).toBe(200);
      expect(await lastEvent('tpp')).toMatchObject({ outcome: 'revoked', revoked: 1, token_type: 'access_token', level: 'NONE' });
      const status = await gw.admin('POST', '/admin/tokens/status', { token });
      expect(status.body).toMatchObject({
        client_id: 'tpp',
        token_type: 'access_token',
        active: false,
        expires_at: new Date((body.exp as number) * 1000).toISOString(),
      });
      await eventually(async () => revocation.requestsFor(token).length > 0);
      const asked = introspection.requestsFor(token).length;
      expect(await (await introspect(token)).text()).toBe(INACTIVE);
      expect((await check(token)).status).toBe(401);
      expect(introspection.requestsFor(token)).toHaveLength(asked);
    });

    it('a refresh token the upstream knows is recorded as one', async () => {
      const { token } = upstreamToken({ token_type: 'refresh_token', exp: undefined });
      expect((await revoke(token)).status).toBe(200);
      expect((await gw.admin('POST', '/admin/tokens/status', { token })).body).toMatchObject({ token_type: 'refresh_token', active: false });
    });

    it("another client's: that profile's answer to another client's token, nothing propagated", async () => {
      const { token } = upstreamToken();
      const response = await revoke(token, OTHER);
      expect(response.status).toBe(400);
      expect(await lastEvent('other')).toMatchObject({ outcome: 'foreign', revoked: 0 });
      expect((await json(await introspect(token))).active).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(revocation.requestsFor(token)).toHaveLength(0);
    });

    it('inactive upstream: the unknown-token answer, audited, nothing propagated', async () => {
      const token = newToken('up');
      expect((await revoke(token)).status).toBe(200);
      expect(await lastEvent('tpp')).toMatchObject({ outcome: 'unknown' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(revocation.requestsFor(token)).toHaveLength(0);
    });

    it('upstream failure: 502/504, nothing recorded, nothing propagated', async () => {
      for (const [behaviour, status] of [
        [answer({ error: 'server_error' }, 500), 502],
        [answer({ active: true, client_id: 'tpp' }, 200, 800), 504],
      ] as const) {
        const token = newToken('up');
        upstreamSays.set(token, behaviour);
        const before = await eventCount();
        const response = await revoke(token);
        expect(response.status).toBe(status);
        expect(await eventCount()).toBe(before);
        expect((await gw.admin('POST', '/admin/tokens/status', { token })).status).toBe(404);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(revocation.requestsFor(token)).toHaveLength(0);
      }
    });
  });
});
