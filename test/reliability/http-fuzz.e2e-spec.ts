import fc from 'fast-check';
import { request } from 'undici';
import { ADMIN_TOKEN, basic, IN_A_YEAR, startTestGateway, type TestGateway } from '../support/gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SECRETS = ['fuzz-secret-value', 'fuzz-token-value', ADMIN_TOKEN];

/**
 * The reliability issue, fuzzing: whatever arrives on either port — any method, path, headers
 * (repeated, unknown, oversized), content type, encoding and body (repeated and array-style
 * parameters, binary, oversized) — the answer is never a 5xx, never echoes a secret or a stack
 * trace; on the public port it always carries an interaction id and no-store (but for the key set's
 * own answer, cacheable), an error body is
 * JSON; and the gateway stays ready. A fixed seed keeps CI reproducible; FUZZ_RUNS raises the
 * count for a long run (docs/RELIABILITY.md).
 */
describe('the whole HTTP surface under random requests', () => {
  let gw: TestGateway;
  let counted = { requests: 0, statuses: {} as Record<number, number> };

  beforeAll(async () => {
    gw = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0' });
    await gw.admin('PUT', '/admin/clients/fuzz', { auth_method: 'client_secret_basic', secret: 'fuzz-secret-value' });
    await gw.admin('PUT', '/admin/clients/fuzz-post', { auth_method: 'client_secret_post', secret: 'fuzz-secret-value' });
    await gw.admin('PUT', '/admin/clients/fuzz-public', { auth_method: 'none' });
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token: 'fuzz-token-value', token_type: 'refresh_token', client_id: 'fuzz', grant_id: 'g', consent_id: 'fuzz-consent', expires_at: IN_A_YEAR }],
    });
  });
  afterAll(() => gw.stop());
  beforeEach(() => (counted = { requests: 0, statuses: {} }));
  afterEach(() => {
    if (process.env.RELIABILITY_REPORT) console.log(`fuzz ${expect.getState().currentTestName}: ${JSON.stringify(counted)}`);
  });

  const printable = fc.string({ maxLength: 60, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
  const binary = fc.string({ maxLength: 40, unit: 'binary' });
  const huge = fc.integer({ min: 1000, max: 20000 }).map((n) => 'x'.repeat(n));
  const name = fc.oneof(
    fc.constantFrom(
      'token',
      'token_type_hint',
      'client_id',
      'client_secret',
      'client_assertion',
      'client_assertion_type',
      'revocation_level',
      'cdr_arrangement_id',
    ),
    fc.constantFrom('token[]', 'token[0]', '__proto__', 'constructor', 'token.x', ''),
    binary,
  );
  const value = fc.oneof(
    fc.constantFrom(
      'fuzz-token-value',
      'fuzz',
      'fuzz-post',
      'fuzz-public',
      'fuzz-secret-value',
      'fuzz-consent',
      'access_token',
      'refresh_token',
      'RELATED_CONSENT',
      'NONE',
      '',
      '%',
      '%00',
      '%ZZ',
    ),
    binary,
    huge,
  );
  const form = fc
    .array(fc.tuple(name, value), { maxLength: 8 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
  const body = fc.oneof(
    form,
    form,
    binary,
    huge,
    fc.uint8Array({ maxLength: 128 }).map((bytes) => Buffer.from(bytes)),
    fc.json(),
  );
  const header = fc.oneof(
    fc.tuple(
      fc.constantFrom('authorization'),
      fc.oneof(
        fc.constantFrom(basic('fuzz', 'fuzz-secret-value'), basic('fuzz', 'wrong'), `Bearer ${ADMIN_TOKEN}`),
        printable.map((h) => `Basic ${h}`),
        printable,
      ),
    ),
    fc.tuple(fc.constantFrom('x-fapi-interaction-id'), fc.oneof(fc.uuid(), printable)),
    fc.tuple(
      fc.constantFrom('x-fapi-auth-date', 'x-fapi-customer-ip-address', 'tenant-id', 'x-oauth-identity-domain-name', 'accept', 'cookie', 'x-forwarded-for'),
      printable,
    ),
    fc.tuple(
      fc.constantFrom('content-type'),
      fc.oneof(
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/x-www-form-urlencoded; charset=ISO-8859-1',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=z',
          'application/x-www-form-urlencoded;;;',
        ),
        printable,
      ),
    ),
    // Declared encodings over bodies that are not encoded: the gateway decodes nothing, so a body
    // claiming gzip is refused, never inflated (no decompression bomb to defuse).
    fc.tuple(fc.constantFrom('content-encoding'), fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-garbage')),
    fc.tuple(
      printable.filter((h) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)),
      printable,
    ),
    fc.tuple(
      fc.constantFrom('x-big'),
      huge.map((v) => v.slice(0, 12000)),
    ),
  );
  const path = (routes: string[]) =>
    fc.oneof(
      fc.constantFrom(...routes),
      fc.tuple(fc.constantFrom(...routes), printable).map(([route, query]) => `${route}?${encodeURIComponent(query)}=${encodeURIComponent(query)}`),
      fc.constantFrom(...routes).map((route) => `${route}/`),
      fc.constantFrom(...routes).map((route) => route.toUpperCase()),
      printable.map((p) => `/${encodeURIComponent(p)}`),
      fc.constantFrom('/%', '/%c0%af', '//token/revoke', '/token/../admin/clients/x', `/${'a'.repeat(5000)}`),
    );
  const method = fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

  async function send(base: string, r: { method: string; path: string; headers: Array<[string, string]>; body: string | Buffer }) {
    const hasBody = !['GET', 'HEAD', 'OPTIONS'].includes(r.method);
    let response;
    try {
      response = await request(base + r.path, { method: r.method as 'POST', headers: r.headers.flat(), body: hasBody ? r.body : undefined });
    } catch (error) {
      // A request undici itself refuses to build (a header it cannot send) is not one we can test.
      if ((error as { code?: string }).code === 'UND_ERR_INVALID_ARG') return undefined;
      throw error;
    }
    const text = await response.body.text();
    counted.requests++;
    counted.statuses[response.statusCode] = (counted.statuses[response.statusCode] ?? 0) + 1;
    return { status: response.statusCode, headers: response.headers, text };
  }

  function expectNothingLeaked(text: string) {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/ at .*\.(js|ts):\d+/); // no stack trace
  }

  it('public port: never a 5xx, always an interaction id and no-store, errors in JSON', async () => {
    const routes = [
      '/token/revoke',
      '/token/revocation',
      '/oauth2/rest/token/revoke',
      '/api/id/v1/auth/token/revoke',
      '/arrangements/revoke',
      '/.well-known/oauth-authorization-server',
      '/openapi.json',
      '/jwks.json',
      '/admin/tokens',
      '/health/ready',
      '/metrics',
    ];
    await fc.assert(
      fc.asyncProperty(fc.record({ method, path: path(routes), headers: fc.array(header, { maxLength: 12 }), body }), async (r) => {
        const answer = await send(gw.publicUrl, r);
        if (!answer) return;
        expect(answer.status).toBeLessThan(500);
        expect(answer.headers['x-fapi-interaction-id']).toMatch(UUID);
        // The key set alone is cacheable (docs/api.md §13), and only when it is the answer.
        const keySet = answer.status === 200 && r.path.split('?')[0] === '/jwks.json';
        expect(answer.headers['cache-control']).toBe(keySet ? 'public, max-age=300' : 'no-store');
        if (answer.status >= 400 && answer.text) expect(() => JSON.parse(answer.text)).not.toThrow();
        expectNothingLeaked(answer.text);
      }),
      { seed: 20261122, numRuns: RUNS },
    );
    expect(counted.requests).toBeGreaterThanOrEqual(RUNS * 0.9); // undici refused to build hardly any
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
  }, 600_000);

  it('management port (admin API with and without its token): never a 5xx, always an interaction id and no-store', async () => {
    const routes = [
      '/admin/tenants/fuzz-tenant',
      '/admin/clients/fuzz-client',
      '/admin/tokens',
      '/admin/tokens/status',
      '/admin/revocations',
      '/admin/revocation-events',
      '/health/live',
      '/health/ready',
      '/metrics',
    ];
    const adminBody = fc.oneof(
      body,
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.object().map((v) => JSON.stringify(v)),
    );
    const authorized = fc
      .array(header, { maxLength: 6 })
      .map((headers): Array<[string, string]> => [
        ['authorization', `Bearer ${ADMIN_TOKEN}`],
        ['content-type', 'application/json'],
        ...headers.filter(([h]) => h !== 'authorization' && h !== 'content-type'),
      ]);
    await fc.assert(
      fc.asyncProperty(
        fc.record({ method, path: path(routes), headers: fc.oneof(authorized, fc.array(header, { maxLength: 8 })), body: adminBody }),
        async (r) => {
          const answer = await send(gw.managementUrl, r);
          if (!answer) return;
          expect(answer.status).toBeLessThan(500);
          expect(answer.headers['x-fapi-interaction-id']).toMatch(UUID);
          expect(answer.headers['cache-control']).toBe('no-store');
          // The admin token is the caller's own; no other secret may come back.
          for (const secret of SECRETS.filter((s) => s !== ADMIN_TOKEN)) expect(answer.text).not.toContain(secret);
          expect(answer.text).not.toMatch(/ at .*\.(js|ts):\d+/);
        },
      ),
      { seed: 20261123, numRuns: RUNS },
    );
    expect(counted.requests).toBeGreaterThanOrEqual(RUNS * 0.9);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
  }, 600_000);
});
