import fc from 'fast-check';
import { basic, IN_A_YEAR, startTestGateway, type TestGateway } from '../support/gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Whatever arrives on the public port — any method, path, headers, content type or body — the
 * answer is never a 5xx, always carries an interaction id and no-store, and an error body is JSON.
 * A fixed seed keeps CI reproducible; FUZZ_RUNS raises the count for a long run.
 */
describe('public port under random requests', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/fuzz', { auth_method: 'client_secret_basic', secret: 'fuzz-secret' });
    await gw.admin('PUT', '/admin/clients/fuzz-public', { auth_method: 'none' });
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token: 'fuzz-token', token_type: 'refresh_token', client_id: 'fuzz', grant_id: 'g', expires_at: IN_A_YEAR }],
    });
  });
  afterAll(() => gw.stop());

  const text = fc.string({ maxLength: 40, unit: 'binary' });
  const param = fc.oneof(
    fc.constantFrom('token', 'token_type_hint', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', '__proto__'),
    text,
  );
  const value = fc.oneof(
    fc.constantFrom('fuzz-token', 'fuzz', 'fuzz-public', 'fuzz-secret', 'access_token', 'refresh_token', '', '%', '%00', 'a'.repeat(9000)),
    text,
  );
  const formBody = fc
    .array(fc.tuple(param, value), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
  const rawBody = fc.oneof(formBody, text, fc.constant('token=' + 'x'.repeat(17000)), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')));
  const headerValue = fc.string({ maxLength: 60, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
  const request = fc.record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    path: fc.oneof(fc.constant('/token/revoke'), fc.constant('/token/revoke?token=x'), fc.constantFrom('/', '/admin/tokens', '/health/ready', '/token/revoke/', '/TOKEN/REVOKE'), headerValue.map((p) => `/${encodeURIComponent(p)}`)),
    contentType: fc.option(fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=ISO-8859-1', 'application/json', 'text/plain', 'multipart/form-data; boundary=z', 'application/x-www-form-urlencoded;;;'), { nil: undefined }),
    authorization: fc.option(fc.oneof(fc.constant(basic('fuzz', 'fuzz-secret')), fc.constant(basic('fuzz', 'nope')), headerValue.map((h) => `Basic ${h}`), headerValue), { nil: undefined }),
    interactionId: fc.option(fc.oneof(fc.uuid(), headerValue), { nil: undefined }),
    body: rawBody,
  });

  it('never answers 5xx, always with an interaction id and no-store', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.authorization) headers.authorization = r.authorization;
        if (r.interactionId !== undefined) headers['x-fapi-interaction-id'] = r.interactionId;
        const hasBody = !['GET', 'OPTIONS'].includes(r.method);
        const response = await fetch(gw.publicUrl + r.path, { method: r.method, headers, body: hasBody ? r.body : undefined });
        const body = await response.text();
        expect(response.status).toBeLessThan(500);
        expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
        expect(response.headers.get('cache-control')).toBe('no-store');
        if (response.status >= 400) expect(() => JSON.parse(body)).not.toThrow();
        expect(body).not.toContain('fuzz-secret');
        expect(body).not.toMatch(/ at .*\.(js|ts):\d+/); // no stack trace
      }),
      { seed: 20261122, numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
  });
});
