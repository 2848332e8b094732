import fc from 'fast-check';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';

const RS = { authorization: basic('rs', 'rs-secret-value'), 'content-type': 'application/x-www-form-urlencoded' };
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/**
 * The introspection form (docs/api.md §11.2) under generated input: whatever the body, the answer
 * is 200 with exactly `{"active":false}`, a registered token's active answer, or a 400 in the
 * rfc7009 shape; never a 5xx, never `active` for a token nobody registered, always the interaction id.
 */
describe('POST /token/introspect: generated forms', () => {
  let gw: TestGateway;
  const registered = newToken();

  beforeAll(async () => {
    gw = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_RESOURCE_SERVER_LIMIT: '0' });
    await gw.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    const tokens = [{ token: registered, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }];
    expect((await gw.admin('POST', '/admin/tokens', { tokens })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  const piece = fc.oneof(
    fc.constantFrom('&', '=', '+', '%', '%20', '%zz', '%00', '%E0%A4%A', 'token', 'token_type_hint', 'client_id', registered),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  const body = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));

  it('answers only 200 (inactive, or the registered token active), or 400 invalid_request', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (form) => {
        const response = await fetch(`${gw.publicUrl}/token/introspect`, { method: 'POST', headers: RS, body: form });
        expect(response.headers.get('x-fapi-interaction-id')).toMatch(/^[0-9a-f-]{36}$/);
        expect(response.headers.get('cache-control')).toBe('no-store');
        const answer = await json(response);
        if (response.status === 200) {
          const token = new URLSearchParams(form).get('token');
          if (answer.active) expect(token).toBe(registered);
          else expect(answer).toStrictEqual({ active: false });
        } else {
          expect(response.status).toBe(400);
          expect(answer).toStrictEqual({ error: 'invalid_request', error_description: expect.any(String) });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('any token_type_hint (RFC 7662 §2.1: it only orders the lookup) and any unknown parameter leave the answer as it is', async () => {
    const value = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(value, fc.constantFrom('extra', 'resource', 'scope', 'foo'), value, async (hint, name, extra) => {
        const form = new URLSearchParams({ token: registered, token_type_hint: hint, [name]: extra }).toString();
        const response = await fetch(`${gw.publicUrl}/token/introspect`, { method: 'POST', headers: RS, body: form });
        expect(response.status).toBe(200);
        expect(await json(response)).toMatchObject({ active: true, client_id: 'tpp' });
      }),
      { numRuns: Math.min(RUNS, 50) },
    );
  });
});
