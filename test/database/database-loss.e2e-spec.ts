import { ADMIN_TOKEN, basic, IN_A_YEAR, newToken, startTestGateway, type TestGateway, json } from '../support/gateway';
import { eventually } from '../support/eventually';
import { assertionForm } from '../support/keys';
import { sample, scrape } from '../support/metrics';
import { startProxiedGateway, type ProxiedGateway } from '../support/proxied-gateway';
import type { TcpProxy } from '../support/tcp-proxy';

/**
 * RFC 7009 §2.2.1: when the server cannot revoke, it answers 503 so that the client retries;
 * never 500, never a hang, and the gateway recovers on its own when the database is back.
 */
describe('database loss', () => {
  let gw: TestGateway;
  let proxy: TcpProxy;
  let proxied: ProxiedGateway;
  const auth = { authorization: basic('tpp', 'tpp-secret-value') };

  beforeAll(async () => {
    proxied = await startProxiedGateway();
    ({ gw, proxy } = proxied);
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });

  afterAll(() => proxied.stop());

  /**
   * docs/api.md §11.6: memory answers until the change feed notices the database is gone — at once
   * when its connection drops, within ~0.8 s when it stops answering; from then on, the database
   * decides, and it cannot be read.
   */
  async function feedLost(): Promise<void> {
    await eventually(async () => sample(await scrape(gw.managementUrl), 'revgw_token_status_feed_up') === 0, 2000, 'the change feed noticing');
  }

  async function expectUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
    expect(await json(response)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  }

  it('answers 503 + Retry-After while the database refuses connections, then recovers without a restart', async () => {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }],
    });
    await proxy.refuse();
    await expectUnavailable(await gw.post('/token/revoke', { token }, auth));
    const ready = await fetch(`${gw.managementUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({ status: 'error', details: { database: { status: 'down' } } });
    expect((await fetch(`${gw.managementUrl}/health/live`)).status).toBe(200);
    // nothing was half-applied: the token is still active once the database is back
    await proxy.restore();
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(true);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
    expect((await gw.post('/token/revoke', { token }, auth)).status).toBe(200);
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(false);
  });

  // docs/api.md §11.2: an introspection that cannot read the token's standing is an error, never
  // `active:false` (which would log the PSU out) and never a stale `active:true`.
  it('introspection answers 503, never an active answer, while the database refuses connections', async () => {
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    const rs = { authorization: basic('rs', 'rs-secret-value') };
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g-rs', expires_at: IN_A_YEAR }],
    });
    // The resource server's registration is now in the client cache: only the token lookup can fail.
    expect(await json(await gw.post('/token/introspect', { token }, rs))).toMatchObject({ active: true });
    await proxy.refuse();
    await feedLost();
    for (const asked of [token, newToken()]) {
      const response = await gw.post('/token/introspect', { token: asked }, rs);
      expect(response.headers.get('content-type')).not.toMatch(/token-introspection\+jwt/);
      await expectUnavailable(response);
    }
    await expectUnavailable(await gw.post('/token/introspect', { token }, { ...rs, accept: 'application/token-introspection+jwt' }));
    await proxy.restore();
    expect(await json(await gw.post('/token/introspect', { token }, rs))).toMatchObject({ active: true });
  });

  // docs/api.md §11.5: the check fails closed — a 503 the API gateway in front turns into a denial.
  it('the enforcement check answers 503 while the database refuses connections, counted as an error', async () => {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g-check', expires_at: IN_A_YEAR }],
    });
    const check = () => fetch(`${gw.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}` } });
    expect((await check()).status).toBe(200);
    await proxy.refuse();
    await feedLost();
    const response = await check();
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
    expect(response.headers.has('x-credential-client-id')).toBe(false);
    await proxy.restore();
    const metrics = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/^revgw_authz_checks_total\{result="error"\} 1$/m);
    expect((await check()).status).toBe(200);
  });

  it('answers 503 within the connect timeout when the database stops answering', async () => {
    proxy.blackhole();
    const started = Date.now();
    await expectUnavailable(await gw.post('/token/revoke', { token: 'x' }, auth));
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(503);
    await proxy.restore();
    expect((await gw.post('/token/revoke', { token: 'x' }, auth)).status).toBe(200);
  });
});

/**
 * A failure to obtain a connection is the database being unavailable, whatever the error says:
 * refused, timed out, the database dropped (3D000), the role refused at login (28000). Each
 * endpoint answers 503 + Retry-After in its own shape, never 500 (they did, for the last two).
 */
(process.env.DATABASE_URL ? describe : describe.skip)('database dropped or login refused: 503 on every endpoint', () => {
  const server = process.env.DATABASE_URL!;
  const role = `revgw_role_${Date.now()}`;
  const name = `revgw_owned_${Date.now()}`;
  let gw: TestGateway;
  const asTpp = { authorization: basic('tpp', 'tpp-secret-value') };

  async function superuser(sql: string): Promise<void> {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await superuser(`CREATE ROLE ${role} LOGIN`);
    await superuser(`CREATE DATABASE ${name} OWNER ${role}`);
    const url = new URL(server);
    url.username = role;
    url.pathname = `/${name}`;
    gw = await startTestGateway({ DATABASE_URL: url.toString(), MIGRATIONS_RUN: 'true', DATABASE_CONNECT_TIMEOUT_MS: '500', CLIENT_CACHE_TTL_MS: '0' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(async () => {
    await gw.stop();
    await superuser(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await superuser(`DROP ROLE IF EXISTS ${role}`);
  });

  const unsignedAssertion = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"iss":"tpp","sub":"tpp"}').toString('base64url')}.c2ln`;
  const ENDPOINTS: Array<{ name: string; call: () => Promise<Response>; shape: string[] }> = [
    { name: 'rfc7009', call: () => gw.post('/token/revoke', { token: 'x' }, asTpp), shape: ['error', 'error_description'] },
    { name: 'fapi', call: () => gw.post('/token/revocation', { token: 'x', ...assertionForm(unsignedAssertion) }), shape: ['errors'] },
    { name: 'oam', call: () => gw.post('/oauth2/rest/token/revoke', { token: 'x' }, asTpp), shape: ['errorCode', 'errorMessage'] },
    { name: 'idv1', call: () => gw.post('/api/id/v1/auth/token/revoke', { token: 'x' }, asTpp), shape: ['error', 'errorDescription'] },
    { name: 'cdr', call: () => gw.post('/arrangements/revoke', { cdr_arrangement_id: 'a', ...assertionForm(unsignedAssertion) }), shape: ['errors'] },
    {
      name: 'a named tenant',
      call: () => gw.post('/token/revoke', { token: 'x' }, { ...asTpp, 'tenant-id': 'bank-b' }),
      shape: ['error', 'error_description'],
    },
    ...(
      [
        ['PUT', '/admin/tenants/t', {}],
        ['PUT', '/admin/clients/c', { auth_method: 'none' }],
        ['DELETE', '/admin/clients/c', undefined],
        ['POST', '/admin/tokens', { tokens: [{ token: 't', token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] }],
        ['POST', '/admin/tokens/status', { token: 't' }],
        ['POST', '/admin/revocations', { subject: 's' }],
        ['GET', '/admin/revocation-events', undefined],
      ] as const
    ).map(([method, path, body]) => ({
      name: `${method} ${path}`,
      call: () =>
        fetch(gw.managementUrl + path, {
          method,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }),
      shape: ['error', 'error_description'],
    })),
  ];

  async function everyEndpointUnavailable(): Promise<void> {
    for (const endpoint of ENDPOINTS) {
      const response = await endpoint.call();
      const body = await json(response);
      expect({ endpoint: endpoint.name, status: response.status }).toEqual({ endpoint: endpoint.name, status: 503 });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(Object.keys(body).sort()).toEqual(endpoint.shape);
    }
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(503);
  }

  it('login refused (the role may no longer log in): 503 everywhere, and back once it may', async () => {
    await superuser(`ALTER ROLE ${role} NOLOGIN`);
    await superuser(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`);
    await everyEndpointUnavailable();
    await superuser(`ALTER ROLE ${role} LOGIN`);
    await eventually(async () => (await fetch(`${gw.managementUrl}/health/ready`)).status === 200, 10_000, 'ready again');
    expect((await gw.post('/token/revoke', { token: 'x' }, asTpp)).status).toBe(200);
  });

  it('read only (a standby, or a primary being failed over): 503 for a revocation, which did not happen', async () => {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
    await superuser(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await superuser(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    try {
      for (const call of [
        () => gw.post('/token/revoke', { token }, asTpp),
        () => gw.post('/oauth2/rest/token/revoke', { token, revocation_level: 'RELATED_CONSENT' }, asTpp),
      ]) {
        const response = await call();
        expect(response.status).toBe(503);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect((await gw.admin('POST', '/admin/revocations', { subject: 's' })).status).toBe(503);
    } finally {
      await superuser(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      await superuser(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    }
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(true);
  });

  it('database dropped: 503 everywhere', async () => {
    await superuser(`DROP DATABASE ${name} WITH (FORCE)`);
    await everyEndpointUnavailable();
  });
});
