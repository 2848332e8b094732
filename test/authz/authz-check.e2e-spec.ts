import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, YESTERDAY, type TestGateway } from '../support/gateway';
import { sample, scrape } from '../support/metrics';
import { TestPki, type Issued } from '../support/certs';
import { captureLogs } from '../support/log-capture';

const CHALLENGE = 'Bearer error="invalid_token"';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const x5t = (issued: Issued) => createHash('sha256').update(new X509Certificate(issued.cert).raw).digest('base64url');

/**
 * docs/api.md §11.5: the enforcement check an API gateway asks before it forwards a request, on the
 * management port, against the real database: 200 and the credential headers for an active access
 * token, 401 with the RFC 6750 challenge for anything else, never a 400.
 */
describe('/authz/check', () => {
  let gw: TestGateway;
  let pki: TestPki;
  let device: Issued;
  let other: Issued;
  const { lines, logger } = captureLogs('info');

  beforeAll(async () => {
    pki = new TestPki();
    device = pki.issue('device', '/CN=tpp-device');
    other = pki.issue('other', '/CN=someone-else');
    gw = await startTestGateway({ MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '127.0.0.1' }, logger);
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
    for (const tenant of ['default', 'bank-b']) {
      await gw.admin('PUT', '/admin/clients/tpp', { tenant, auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    }
  });
  afterAll(() => gw.stop());

  async function register(entry: Record<string, unknown> = {}, tenant?: string): Promise<string> {
    const token = newToken();
    const tokens = [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g-1', expires_at: IN_A_YEAR, ...entry }];
    const response = await gw.admin('POST', '/admin/tokens', { ...(tenant ? { tenant } : {}), tokens });
    expect(response.status).toBe(201);
    return token;
  }

  const check = (headers: Record<string, string>, { method = 'GET', path = '/authz/check', body }: { method?: string; path?: string; body?: string } = {}) =>
    fetch(gw.managementUrl + path, { method, headers, body });
  /** A request whose path fetch would normalise: sent as written. */
  const rawRequest = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const url = new URL(gw.managementUrl);
      const request = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (response) => {
        response.resume();
        resolve({ status: response.statusCode!, headers: response.headers });
      });
      request.on('error', reject).end();
    });
  const bearer = (token: string, more: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...more });

  async function expectDenied(response: Response): Promise<void> {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect([...response.headers.keys()].filter((name) => name.startsWith('x-credential-'))).toEqual([]);
    expect(await json(response)).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  }

  describe('an active access token: 200, empty, with what the gateway knows of it', () => {
    it('every credential header, exp in NumericDate seconds', async () => {
      const token = await register({ subject: 'psu-1', scope: 'accounts payments:read', consent_id: 'consent-1', expires_at: '2099-01-01T00:00:00Z' });
      const interactionId = randomUUID();
      const response = await check(bearer(token, { 'x-fapi-interaction-id': interactionId }));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      expect(response.headers.get('x-fapi-interaction-id')).toBe(interactionId);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-credential-')))).toEqual({
        'x-credential-client-id': 'tpp',
        'x-credential-sub': 'psu-1',
        'x-credential-scope': 'accounts payments:read',
        'x-credential-exp': String(Date.parse('2099-01-01T00:00:00Z') / 1000),
        'x-credential-consent-id': 'consent-1',
      });
    });

    it('only the headers of what is known', async () => {
      const response = await check(bearer(await register()));
      expect(response.status).toBe(200);
      expect([...response.headers.keys()].filter((name) => name.startsWith('x-credential-')).sort()).toEqual(['x-credential-client-id', 'x-credential-exp']);
    });

    it.each([
      ['GET', '/authz/check', undefined],
      ['HEAD', '/authz/check', undefined],
      ['POST', '/authz/check/accounts/123/transactions', 'text/plain'],
      ['PUT', '/authz/check/payments', 'application/json'],
      ['DELETE', '/authz/check/consents/c-1', undefined],
      ['PATCH', '/authz/check/a', 'application/x-www-form-urlencoded'],
      ['OPTIONS', '/authz/check/', undefined],
    ])('any method, any path under it, any body left unread: %s %s (%s)', async (method, path, type) => {
      const token = await register();
      const body = type === undefined ? undefined : type === 'application/json' ? '{"not": json' : 'anything at all';
      const response = await check(bearer(token, type ? { 'content-type': type } : {}), { method, path, body });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-credential-client-id')).toBe('tpp');
    });

    it('the tenant from Tenant-ID: a token of bank-b passes only when the request names bank-b', async () => {
      const token = await register({}, 'bank-b');
      expect((await check(bearer(token, { 'tenant-id': 'bank-b' }))).status).toBe(200);
      await expectDenied(await check(bearer(token)));
      const mine = await register();
      await expectDenied(await check(bearer(mine, { 'tenant-id': 'bank-b' })));
    });

    it('a subject that no header can hold is percent-encoded (and % itself), never split into another header', async () => {
      const subject = 'psü 50%\r\nx-credential-client-id: evil';
      const response = await check(bearer(await register({ subject })));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-credential-client-id')).toBe('tpp');
      expect(decodeURIComponent(response.headers.get('x-credential-sub')!)).toBe(subject);
      expect(response.headers.get('x-credential-sub')).toBe('ps%C3%BC 50%25%0D%0Ax-credential-client-id: evil');
    });

    it.each([
      ['a content type that does not parse', 'POST', '/authz/check', { 'content-type': 'x' }, 'a'],
      ['a JSON body over the admin API’s 128 KiB', 'POST', '/authz/check', { 'content-type': 'application/json' }, `{"a":"${'x'.repeat(200 * 1024)}"}`],
      ['a body without a content type', 'PUT', '/authz/check/x', {}, 'raw'],
      ['QUERY without a content type', 'QUERY', '/authz/check', {}, undefined],
    ])('never answers 400 or 413: %s', async (_what, method, path, headers, body) => {
      const token = await register();
      const response = await check(bearer(token, headers as Record<string, string>), { method, path, body });
      expect(response.status).toBe(200);
    });

    it('a path under it that cannot be decoded: 401 with the challenge, not 400', async () => {
      for (const path of ['/authz/check/x%c0%af', '/authz/check/%zz']) {
        const response = await rawRequest(path, bearer(await register()));
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toBe(CHALLENGE);
        expect(response.headers['x-fapi-interaction-id']).toMatch(UUID);
      }
    });

    it('a value with spaces at its ends, and a scope holding %, come back whole through decodeURIComponent', async () => {
      const response = await check(bearer(await register({ subject: ' alice ', scope: 'read%20write accounts' })));
      expect(response.status).toBe(200);
      expect(decodeURIComponent(response.headers.get('x-credential-sub')!)).toBe(' alice ');
      expect(decodeURIComponent(response.headers.get('x-credential-scope')!)).toBe('read%20write accounts');
    });

    it('never answers 400: an interaction id that is not a UUID is replaced by a new one', async () => {
      const token = await register();
      for (const id of ['not-a-uuid', 'x'.repeat(300)]) {
        const response = await check(bearer(token, { 'x-fapi-interaction-id': id }));
        expect(response.status).toBe(200);
        expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
        expect(response.headers.get('x-fapi-interaction-id')).not.toBe(id);
      }
      await expectDenied(await check({ 'x-fapi-interaction-id': 'not-a-uuid' }));
    });
  });

  describe('401 with the RFC 6750 challenge', () => {
    it.each([
      ['no Authorization header', {}],
      ['another scheme', { authorization: basic('tpp', 'tpp-secret-value') }],
      ['Bearer without a token', { authorization: 'Bearer ' }],
      ['a token with characters RFC 6750 does not allow', { authorization: 'Bearer a b' }],
      ['an unknown token', { authorization: `Bearer ${newToken()}` }],
      ['a Tenant-ID no tenant can have', { authorization: `Bearer ${newToken()}`, 'tenant-id': 'no such tenant!' }],
      ['an unknown tenant', { authorization: `Bearer ${newToken()}`, 'tenant-id': 'nobody' }],
    ])('%s', async (_what, headers) => {
      await expectDenied(await check(headers as Record<string, string>));
    });

    it('an expired token, a refresh token', async () => {
      await expectDenied(await check(bearer(await register({ expires_at: YESTERDAY }))));
      await expectDenied(await check(bearer(await register({ token_type: 'refresh_token' }))));
    });

    it('the very next check after a revocation, by its client and by a bulk revocation', async () => {
      const token = await register({ subject: 'psu-bulk' });
      expect((await check(bearer(token))).status).toBe(200);
      expect((await gw.post('/token/revoke', { token }, { authorization: basic('tpp', 'tpp-secret-value') })).status).toBe(200);
      await expectDenied(await check(bearer(token)));
      const other = await register({ subject: 'psu-bulk-2' });
      expect((await check(bearer(other))).status).toBe(200);
      expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-bulk-2' })).body).toEqual({ revoked: 1 });
      await expectDenied(await check(bearer(other)));
    });
  });

  describe('sender-constrained tokens', () => {
    it('cnf.x5t#S256: allowed only with that certificate, forwarded by a trusted proxy', async () => {
      const token = await register({ cnf: { 'x5t#S256': x5t(device) } });
      const forwarded = (issued: Issued) => ({ 'x-ssl-client-cert': encodeURIComponent(issued.cert) });
      expect((await check(bearer(token, forwarded(device)))).status).toBe(200);
      await expectDenied(await check(bearer(token)));
      await expectDenied(await check(bearer(token, forwarded(other))));
      await expectDenied(await check(bearer(token, { 'x-ssl-client-cert': 'not%20a%20certificate' })));
    });

    it('cnf.jkt (DPoP): allowed, with the key thumbprint for the resource server to check the proof against', async () => {
      const jkt = 'B'.repeat(43);
      const response = await check(bearer(await register({ cnf: { jkt } })));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-credential-cnf-jkt')).toBe(jkt);
    });
  });

  it('counts decisions in revgw_authz_checks_total and requests under profile authz_check; logs no token', async () => {
    const metrics = () => scrape(gw.managementUrl);
    const before = await metrics();
    const token = await register();
    const seen = lines.length;
    await check(bearer(token));
    await check(bearer(newToken()));
    const after = await metrics();
    expect(sample(after, 'revgw_authz_checks_total{result="allow"}') - sample(before, 'revgw_authz_checks_total{result="allow"}')).toBe(1);
    expect(sample(after, 'revgw_authz_checks_total{result="deny"}') - sample(before, 'revgw_authz_checks_total{result="deny"}')).toBe(1);
    expect(sample(after, 'revgw_authz_checks_total{result="error"}')).toBe(0);
    expect(sample(after, 'revgw_http_requests_total{profile="authz_check",status="200"}')).toBeGreaterThanOrEqual(1);
    // The management port's other requests (this scrape, the admin API) are not counted.
    expect(after).not.toMatch(/revgw_http_requests_total\{profile="other",status="201"\}/);
    const logged = lines.slice(seen).map((line) => JSON.parse(line));
    const requestLines = logged.filter((line) => line.msg === 'request completed' && line.profile === 'authz_check');
    expect(requestLines.map((line) => line.status)).toEqual([200, 401]);
    expect(requestLines[0]).toMatchObject({ tenant: 'default', client_id: 'tpp' });
    expect(lines.slice(seen).join('\n')).not.toContain(token);
  });
});

describe('/authz/check with AUTHZ_CHECK_TOKEN', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ AUTHZ_CHECK_TOKEN: 'check-caller-secret-0123456789' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(() => gw.stop());

  it('403 without it or with another value, whatever the token; 200 with it', async () => {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
    const check = (headers: Record<string, string>) => fetch(`${gw.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    const attempts: Array<Record<string, string>> = [{}, { 'x-authz-check-token': 'wrong' }, { 'x-authz-check-token': 'check-caller-secret-012345678' }];
    for (const headers of attempts) {
      const response = await check(headers);
      expect(response.status).toBe(403);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      expect(response.headers.has('x-credential-client-id')).toBe(false);
      expect(await json(response)).toEqual({ error: 'access_denied', error_description: expect.any(String) });
    }
    expect((await check({ 'x-authz-check-token': 'check-caller-secret-0123456789' })).status).toBe(200);
  });
});

describe('/authz/check with certificates from an untrusted peer', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '10.0.0.1' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(() => gw.stop());

  it('a certificate-bound token is refused even with the right certificate in the header', async () => {
    const device = new TestPki().issue('device', '/CN=device');
    const token = newToken();
    const cnf = { 'x5t#S256': x5t(device) };
    await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR, cnf }] });
    const response = await fetch(`${gw.managementUrl}/authz/check`, {
      headers: { authorization: `Bearer ${token}`, 'x-ssl-client-cert': encodeURIComponent(device.cert) },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(CHALLENGE);
  });
});
