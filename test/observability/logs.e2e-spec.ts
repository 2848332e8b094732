import { randomBytes, randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, basic, closedPort, IN_A_YEAR, newToken, rawHttp, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { captureLogs } from '../support/log-capture';
import { assertionForm, clientAssertion, signingKey } from '../support/keys';

/**
 * docs/api.md §10: one JSON line per request with its who/what/how, and never a token, a secret, an
 * assertion, an Authorization header, a cookie or a certificate — in logs, error bodies or
 * metrics. Every flow below runs with known secret values at `trace` level; then everything the
 * gateway wrote is searched for each of them.
 */
describe('logs, error bodies and metrics never carry secrets', () => {
  const { lines, logger } = captureLogs('trace');
  const bodies: string[] = [];
  const secrets: Record<string, string> = {
    basicSecret: `basic-${randomBytes(12).toString('hex')}`,
    postSecret: `post-${randomBytes(12).toString('hex')}`,
    wrongSecret: `wrong-${randomBytes(12).toString('hex')}`,
    accessToken: newToken('at-secret'),
    refreshToken: newToken('rt-secret'),
    unknownToken: newToken('unknown-secret'),
    upstreamSecret: `upstream-${randomBytes(12).toString('hex')}`,
    encryptionKey: randomBytes(32).toString('base64'),
    cookie: `cookie-${randomBytes(12).toString('hex')}`,
    certificate: `MIIB${randomBytes(24).toString('base64url')}`,
    adminToken: ADMIN_TOKEN,
  };
  let gw: TestGateway;
  let assertion: string;

  beforeAll(async () => {
    gw = await startTestGateway(
      {
        LOG_LEVEL: 'trace',
        MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert',
        TRUSTED_PROXIES: '127.0.0.1',
        // An upstream that is down: the 502 path logs its failure.
        UPSTREAM_REVOCATION_URL: `http://127.0.0.1:${await closedPort()}/revoke`,
        UPSTREAM_CLIENT_ID: 'gateway',
        UPSTREAM_CLIENT_SECRET: secrets.upstreamSecret,
        TOKEN_ENCRYPTION_KEY: secrets.encryptionKey,
        UPSTREAM_TIMEOUT_MS: '300',
      },
      logger,
    );
    const key = await signingKey('ES256');
    const record = async (response: Response) => {
      bodies.push(await response.text());
      return response;
    };
    const admin = async (method: string, path: string, body?: unknown) => {
      const result = await gw.admin(method, path, body);
      bodies.push(JSON.stringify(result.body ?? ''));
      return result;
    };
    await admin('PUT', '/admin/clients/basic-app', { auth_method: 'client_secret_basic', secret: secrets.basicSecret });
    await admin('PUT', '/admin/clients/post-app', { auth_method: 'client_secret_post', secret: secrets.postSecret });
    await admin('PUT', '/admin/clients/jwt-app', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    await admin('PUT', '/admin/clients/mtls-app', { auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-app' });
    await admin('POST', '/admin/tokens', {
      tokens: [
        { token: secrets.refreshToken, token_type: 'refresh_token', client_id: 'basic-app', grant_id: 'g', expires_at: IN_A_YEAR },
        {
          token: secrets.accessToken,
          token_type: 'access_token',
          client_id: 'basic-app',
          grant_id: 'g',
          refresh_token: secrets.refreshToken,
          expires_at: IN_A_YEAR,
        },
      ],
    });
    await admin('POST', '/admin/tokens/status', { token: secrets.accessToken });
    assertion = await clientAssertion(key, 'jwt-app', { aud: 'http://localhost:8080/token/revoke' });
    const cookie = { cookie: `session=${secrets.cookie}` };

    await record(await gw.post('/token/revoke', { token: secrets.accessToken }, { authorization: basic('basic-app', secrets.basicSecret), ...cookie }));
    await record(await gw.post('/token/revoke', { token: secrets.refreshToken }, { authorization: basic('basic-app', secrets.wrongSecret) }));
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken, client_id: 'post-app', client_secret: secrets.postSecret }));
    // Id and secret swapped, a common mistake: the secret arrives where the client id belongs.
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken }, { authorization: basic(secrets.basicSecret, 'basic-app') }));
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken, client_id: secrets.postSecret, client_secret: 'post-app' }));
    // A bad interaction id is refused before anything else, and still gets its request line.
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken }, { 'x-fapi-interaction-id': 'not-a-uuid' }));
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken, client_id: 'post-app', client_secret: secrets.wrongSecret }));
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken, ...assertionForm(assertion) }));
    await record(await gw.post('/token/revoke', { token: secrets.unknownToken, ...assertionForm(assertion) })); // replayed
    await record(
      await gw.post(
        '/token/revoke',
        { token: secrets.unknownToken, client_id: 'mtls-app' },
        { 'x-ssl-client-cert': `-----BEGIN CERTIFICATE-----${secrets.certificate}-----END CERTIFICATE-----` },
      ),
    );
    await record(await gw.post('/token/revocation', { token: secrets.accessToken, ...assertionForm(assertion) }, { 'x-fapi-auth-date': 'yesterday' }));
    await record(
      await gw.post('/token/revoke', `token=${secrets.accessToken}&token=${secrets.refreshToken}`, { authorization: basic('basic-app', secrets.basicSecret) }),
    );
    await record(await fetch(`${gw.managementUrl}/admin/clients/x`, { method: 'PUT', headers: { authorization: `Bearer ${secrets.basicSecret}` } }));
    bodies.push(await (await fetch(`${gw.managementUrl}/metrics`)).text());
  }, 30_000);
  afterAll(() => gw.stop());

  it('captured the run (a test that saw nothing would prove nothing)', () => {
    expect(lines.length).toBeGreaterThan(20);
    expect(bodies.join('\n')).toContain('revgw_http_requests_total');
  });

  it.each(Object.keys(secrets))('never writes %s to a log line, an error body or /metrics', (name) => {
    const secret = secrets[name];
    expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
    // Nor its encodings a log might carry: base64 of the Basic header, the form-encoded body.
    expect(lines.filter((line) => line.includes(encodeURIComponent(secret)))).toEqual([]);
  });

  it('never writes the assertion, an Authorization value or a cookie', () => {
    const all = lines.join('\n');
    expect(all).not.toContain(assertion);
    expect(all).not.toContain(assertion.split('.')[2]);
    expect(all).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}/);
    expect(all).not.toMatch(/Bearer \S/);
    expect(all).not.toContain('session=');
  });

  it('writes one request line per request with interaction id, tenant, client, profile, status and duration', async () => {
    const interactionId = randomUUID();
    await gw.post('/token/revoke', { token: newToken() }, { authorization: basic('basic-app', secrets.basicSecret), 'x-fapi-interaction-id': interactionId });
    // The line is written once the response has gone out, so it may trail the client by a moment.
    const requestLines = () =>
      lines.map((line) => JSON.parse(line)).filter((entry) => entry.interaction_id === interactionId && /^request (completed|failed)$/.test(entry.msg));
    const mine = await eventually(async () => requestLines().length > 0 && requestLines(), 2000, 'request line');
    expect(mine).toEqual([
      expect.objectContaining({
        interaction_id: interactionId,
        tenant: 'default',
        client_id: 'basic-app',
        profile: 'rfc7009',
        status: 502,
        duration_ms: expect.any(Number),
      }),
    ]);
    // An answered request is not also an aborted one.
    expect(lines.filter((line) => line.includes(interactionId) && line.includes('"request aborted"'))).toEqual([]);
  });

  it('writes the request line also for requests refused before routing: a bad interaction id, unparseable HTTP', async () => {
    const refused = await gw.post('/token/revoke', { token: newToken() }, { 'x-fapi-interaction-id': 'nope' });
    expect(refused.status).toBe(400);
    const id = refused.headers.get('x-fapi-interaction-id')!;
    await eventually(
      async () => lines.some((line) => line.includes(id) && line.includes('"msg":"request completed"') && line.includes('"status":400')),
      2000,
      'request line',
    );

    const answer = await rawHttp(gw.publicUrl, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const bigId = /x-fapi-interaction-id: (\S+)/.exec(answer)![1];
    await eventually(async () => lines.some((line) => line.includes(bigId) && line.includes('"status":431')), 2000, '431 line');
  });

  it('writes a line for a request whose client went away before the answer', async () => {
    const interactionId = randomUUID();
    const body = `token=${newToken()}`;
    // Sent, then half-closed at once: Node's HTTP server drops such a request unanswered.
    await rawHttp(
      gw.publicUrl,
      `POST /token/revoke HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('basic-app', secrets.basicSecret)}\r\nx-fapi-interaction-id: ${interactionId}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const aborted = await eventually(
      async () => lines.map((line) => JSON.parse(line)).find((entry) => entry.interaction_id === interactionId && entry.msg === 'request aborted'),
      2000,
      'aborted line',
    );
    expect(aborted).toMatchObject({ profile: 'rfc7009', req: { method: 'POST', path: '/token/revoke' } });
  });

  it('logs a client-authentication failure with its cause under the client_auth_id the caller got', async () => {
    const response = await gw.post('/token/revoke', { token: newToken() }, { authorization: basic('basic-app', secrets.wrongSecret) });
    const { client_auth_id: id } = (await response.json()) as { client_auth_id: string };
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.client_auth_id === id);
    expect(logged).toEqual(expect.objectContaining({ client_auth_id: id, detail: expect.stringMatching(/secret/) }));
  });
});
