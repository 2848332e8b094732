import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The fapi profile, POST /token/revocation (docs/api.md §2 `fapi` row, §4). */
describe('fapi profile: POST /token/revocation', () => {
  let gw: TestGateway;
  let key: SigningKey;
  let otherKey: SigningKey;

  beforeAll(async () => {
    key = await signingKey('PS256');
    otherKey = await signingKey('ES256');
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    await gw.admin('PUT', '/admin/clients/other-tpp', { auth_method: 'private_key_jwt', jwks: { keys: [otherKey.publicJwk] } });
    await gw.admin('PUT', '/admin/clients/basic-tpp', { auth_method: 'client_secret_basic', secret: 'basic-tpp-secret' });
  });
  afterAll(() => gw.stop());

  const auth = async (clientId = 'tpp', signer = key) => assertionForm(await clientAssertion(signer, clientId, { aud: `${ISSUER}/token/revocation` }));

  async function family(clientId = 'tpp') {
    const rt = newToken('rt');
    const at = newToken('at');
    await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { token: rt, token_type: 'refresh_token', client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR },
        { token: at, token_type: 'access_token', client_id: clientId, grant_id: 'g', refresh_token: rt, expires_at: IN_A_YEAR },
      ],
    });
    return { rt, at };
  }

  const active = async (token: string) => (await gw.admin('POST', '/admin/tokens/status', { token })).body.active;

  it('revokes a refresh token and its access tokens: 204, no body, no-store, interaction id', async () => {
    const { rt, at } = await family();
    const response = await gw.post('/token/revocation', { token: rt, token_type_hint: 'refresh_token', ...(await auth()) });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    expect([await active(rt), await active(at)]).toEqual([false, false]);
  });

  it('answers 404 with the errors shape for an unknown token', async () => {
    const response = await gw.post('/token/revocation', { token: 'never-issued', ...(await auth()) });
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ errors: [expect.any(String)] });
  });

  it('answers 404 for another client’s token and revokes nothing', async () => {
    const { at } = await family('other-tpp');
    const response = await gw.post('/token/revocation', { token: at, ...(await auth()) });
    expect(response.status).toBe(404);
    expect(await active(at)).toBe(true);
  });

  it('answers 204 again for a token it already revoked (idempotent)', async () => {
    const { at } = await family();
    expect((await gw.post('/token/revocation', { token: at, ...(await auth()) })).status).toBe(204);
    expect((await gw.post('/token/revocation', { token: at, ...(await auth()) })).status).toBe(204);
  });

  it.each([
    ['client_secret_basic', () => ({ headers: { authorization: basic('basic-tpp', 'basic-tpp-secret') }, form: {} })],
    ['client_secret_post', () => ({ headers: {}, form: { client_id: 'basic-tpp', client_secret: 'basic-tpp-secret' } })],
    ['a public client', () => ({ headers: {}, form: { client_id: 'tpp' } })],
  ])('refuses %s (FAPI 1.0 Advanced §5.2.2-14): 401 in the errors shape', async (_name, build) => {
    const { headers, form } = build();
    const response = await gw.post('/token/revocation', { token: 'x', ...form }, headers);
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ errors: ['client authentication failed'] });
  });

  it.each([
    ['text/html', 406],
    ['application/json;q=0', 406],
    ['application/xml, text/plain', 406],
    ['application/json', 204],
    ['*/*', 204],
    ['text/html, application/json;q=0.5', 204],
  ])('Accept %j → %d, decided before client authentication', async (accept, status) => {
    const { at } = await family();
    const form: Record<string, string> = status === 406 ? { token: at, client_id: 'nobody' } : { token: at, ...(await auth()) };
    const response = await gw.post('/token/revocation', form, { accept });
    expect(response.status).toBe(status);
    if (status === 406) expect(await json(response)).toEqual({ errors: [expect.any(String)] });
  });

  it.each([
    ['an unknown token_type_hint', { token: 'x', token_type_hint: 'id_token' }],
    ['a missing token', {}],
    ['a repeated token', 'token=a&token=b'],
  ])('answers 400 in the errors shape for %s', async (_name, form) => {
    const body = typeof form === 'string' ? `${form}&${new URLSearchParams(await auth()).toString()}` : { ...form, ...(await auth()) };
    const response = await gw.post('/token/revocation', body);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ errors: [expect.any(String)] });
  });

  it('answers a malformed FAPI header with 400 naming it, in the errors shape', async () => {
    const response = await gw.post('/token/revocation', { token: 'x', ...(await auth()) }, { 'x-fapi-auth-date': 'today' });
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ errors: ['x-fapi-auth-date is malformed'] });
  });

  it('answers 413 for a body over 16 KiB, in the errors shape', async () => {
    const response = await gw.post('/token/revocation', `token=${'a'.repeat(17000)}`);
    expect(response.status).toBe(413);
    expect(await json(response)).toEqual({ errors: [expect.any(String)] });
  });

  it('answers 405 on GET with Allow: POST, in the rfc7009 shape like every route miss', async () => {
    const response = await fetch(`${gw.publicUrl}/token/revocation`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await json(response)).toEqual({ error: 'method_not_allowed', error_description: expect.any(String) });
  });
});
