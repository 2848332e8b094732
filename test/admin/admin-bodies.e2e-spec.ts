import { generateKeyPair, exportJWK } from 'jose';
import { ADMIN_TOKEN, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';

/**
 * What the admin API is sent is bounded before it is parsed, transformed or validated: per route
 * body size (only token registration takes a large one), JSON depth and width. A hostile or
 * broken body is a quick 400/413, never a 500, and never stalls the public port, which shares
 * the process. A client's `jwks` holds public keys only (RFC 7591 §2).
 */
describe('admin request bodies', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(() => gw.stop());

  const post = (path: string, body: string, method = 'POST') =>
    fetch(gw.managementUrl + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body });

  /** How long the public port takes to answer its metadata while `work` is under way. */
  async function publicLatencyDuring(work: Promise<unknown>): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await (await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`)).text();
    const latency = Date.now() - started;
    await work;
    return latency;
  }

  const SIX_MB = 6 * 1024 * 1024;
  const hostile: Array<[string, string]> = [
    ['deeply nested arrays in tokens', `{"tokens":${'['.repeat(SIX_MB / 2)}${']'.repeat(SIX_MB / 2)}}`],
    ['deeply nested objects', `${'{"a":'.repeat(SIX_MB / 5)}1${'}'.repeat(SIX_MB / 5)}`],
    ['a token entry nested in arrays', `{"tokens":[[[[[[[[[[{"token":"x"}]]]]]]]]]]}`],
    ['a million tiny members', `{"tokens":[${'{},'.repeat(1_000_000)}{}]}`],
  ];

  it.each(hostile)('token registration, %s: 400 at once, the public port keeps answering', async (_name, body) => {
    const started = Date.now();
    const answer = post('/admin/tokens', body);
    const latency = await publicLatencyDuring(answer);
    const response = await answer;
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    expect(response.headers.get('x-fapi-interaction-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Generous bounds: the point is seconds of stall, as before, never again.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(latency).toBeLessThan(1000);
  });

  it.each([
    ['/admin/revocations', 'POST'],
    ['/admin/tokens/status', 'POST'],
    ['/admin/clients/tpp', 'PUT'],
    ['/admin/tenants/t1', 'PUT'],
  ])('%s takes a small body only: 200 KiB is 413', async (path, method) => {
    const response = await post(path, JSON.stringify({ subject: 'x'.repeat(200 * 1024) }), method);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  const tenThousand = () =>
    JSON.stringify({
      tokens: Array.from({ length: 10000 }, () => ({ token: newToken(), token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR })),
    });

  it('token registration takes a large body (10,000 tokens, about 2 MiB)', async () => {
    const response = await post('/admin/tokens', tenThousand());
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ registered: 10000 });
  });

  // The embedded database runs in this process's thread (WASM): its own work stalls every port.
  (process.env.DATABASE_URL ? it : it.skip)('a 10,000-token registration leaves the public port answering', async () => {
    const body = tenThousand();
    let done = false;
    const registration = post('/admin/tokens', body).finally(() => (done = true));
    let worst = 0;
    while (!done) {
      const started = Date.now();
      await (await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`)).text();
      worst = Math.max(worst, Date.now() - started);
    }
    expect((await registration).status).toBe(201);
    // Validation alone is about a second of CPU; done in slices, no turn of the loop takes long.
    expect(worst).toBeLessThan(400);
  });

  it.each([
    ['an array as a token entry', { tokens: [[]] }],
    ['an array of arrays as a token entry', { tokens: [[[]]] }],
    ['a string as a token entry', { tokens: ['tok'] }],
    ['null as a token entry', { tokens: [null] }],
    ['a number as a token entry', { tokens: [1] }],
    ['tokens as an object', { tokens: { 0: {} } }],
    ['an array as the body', [{ tokens: [] }]],
    ['a nested array as a field', { tokens: [{ token: ['a'], token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] }],
  ])('token registration, %s: 400, nothing stored', async (_name, body) => {
    const response = await post('/admin/tokens', JSON.stringify(body));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it.each([
    ['/admin/revocations', { subject: ['a'] }],
    ['/admin/revocations', { client_id: { a: 1 } }],
    ['/admin/tokens/status', { token: [[]] }],
    ['/admin/tokens/status', [[]]],
    ['/admin/revocations', 'null'],
  ])('%s with %j: 400', async (path, body) => {
    const response = await post(path, typeof body === 'string' ? body : JSON.stringify(body));
    expect(response.status).toBe(400);
  });

  it('takes at most 16 MiB for a registration: 413 past it', async () => {
    const response = await post('/admin/tokens', JSON.stringify({ tokens: [{ token: 'x'.repeat(17 * 1024 * 1024) }] }));
    expect(response.status).toBe(413);
  });

  it.each([
    [
      'one entry with a huge member nobody asked for',
      `{"tokens":[{"token":"t","junk":[${Array.from({ length: 400 }, () => `{${Array.from({ length: 1000 }, (_, k) => `"k${k}":1`).join(',')}}`).join(',')}]}]}`,
    ],
    [
      '10,000 entries of 40 members each',
      `{"tokens":[${Array.from({ length: 10000 }, () => `{${Array.from({ length: 40 }, (_, k) => `"k${k}":1`).join(',')}}`).join(',')}]}`,
    ],
  ])('%s: refused at once by its number of values, the public port keeps answering', async (_name, body) => {
    const started = Date.now();
    const answer = post('/admin/tokens', body);
    const latency = await publicLatencyDuring(answer);
    const response = await answer;
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_description: string }).error_description).toBe('more than 300000 JSON values');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(latency).toBeLessThan(1000);
  });

  it('an unknown member of an entry is neither walked nor copied: a large one is dropped, the entry registered', async () => {
    const junk = Array.from({ length: 200 }, () => Object.fromEntries(Array.from({ length: 500 }, (_, k) => [`k${k}`, 'v'])));
    const token = newToken();
    const answer = await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR, junk }],
    });
    expect(answer.status).toBe(201);
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(true);
  });

  it.each([
    ['/admin/tokens', { constructor: null, tokens: [{}] }],
    ['/admin/tokens', { constructor: {}, tokens: [{ constructor: null }] }],
    ['/admin/revocations', { constructor: null, subject: 's' }],
    ['/admin/tokens/status', { constructor: { prototype: 1 }, token: 't' }],
  ])('%s with a constructor member %j: never a 500', async (path, body) => {
    const response = await post(path, JSON.stringify(body));
    expect(response.status).toBeLessThan(500);
  });

  it('refuses JSON that is not JSON, and other media types', async () => {
    expect((await post('/admin/revocations', '{"subject":')).status).toBe(400);
    const form = await fetch(`${gw.managementUrl}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'subject=x',
    });
    expect(form.status).toBe(400);
    expect((await post('/admin/revocations', '{"__proto__":{"x":1},"subject":"s"}')).status).toBe(400);
  });

  describe('a client jwks holds public keys only (RFC 7591 §2)', () => {
    let publicJwk: Record<string, unknown>;
    let privateJwk: Record<string, unknown>;

    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1' };
      privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
    });

    it('accepts a public key', async () => {
      const answer = await gw.admin('PUT', '/admin/clients/keyed', { auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } });
      expect(answer.status).toBe(201);
    });

    it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'])('refuses a key with %s, names the member, never echoes or stores it', async (member) => {
      const key = member === 'd' ? privateJwk : { ...publicJwk, [member]: member === 'oth' ? [{ r: 'AQAB', d: 'AQAB', t: 'AQAB' }] : 'c2VjcmV0LXZhbHVl' };
      const answer = await gw.admin('PUT', `/admin/clients/leaky-${member}`, { auth_method: 'private_key_jwt', jwks: { keys: [publicJwk, key] } });
      expect(answer.status).toBe(400);
      expect(answer.body.error_description).toBe(`jwks.keys[1] is not a public key (it has ${member})`);
      expect(JSON.stringify(answer.body)).not.toContain(String(privateJwk.d));
      expect(JSON.stringify(answer.body)).not.toContain('c2VjcmV0LXZhbHVl');
      const rows = await gw.database.dataSource.query(`SELECT 1 FROM clients WHERE client_id = $1`, [`leaky-${member}`]);
      expect(rows).toEqual([]);
    });

    it.each([
      ['inside a member of a key', (pub: Record<string, unknown>) => ({ keys: [{ ...pub, backup: { d: 'UFJJVkFURS1E' } }] }), 'jwks.keys[0].backup', 'd'],
      ['in another member of the set', (pub: Record<string, unknown>) => ({ keys: [pub], old: [{ kty: 'oct', k: 'c2VjcmV0LXZhbHVl' }] }), 'jwks.old[0]', 'k'],
    ])('refuses private key material %s, and never stores or echoes it', async (_name, jwks, where, member) => {
      const answer = await gw.admin('PUT', '/admin/clients/nested-leak', { auth_method: 'private_key_jwt', jwks: jwks(publicJwk) });
      expect(answer.status).toBe(400);
      expect(answer.body.error_description).toBe(`${where} is not a public key (it has ${member})`);
      expect(JSON.stringify(answer.body)).not.toMatch(/UFJJVkFURS1E|c2VjcmV0LXZhbHVl/);
      expect(await gw.database.dataSource.query(`SELECT 1 FROM clients WHERE client_id = 'nested-leak'`)).toEqual([]);
    });

    it('refuses a symmetric key (kty oct)', async () => {
      const answer = await gw.admin('PUT', '/admin/clients/hmac', {
        auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0LXZhbHVlLWF0LWxlYXN0LTMyLWJ5dGVzISE' }] },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error_description).toBe('jwks.keys[0] is not a public key (it has k)');
    });
  });
});
