import { basic, IN_A_YEAR, newToken, rawHttp, startTestGateway, YESTERDAY, type TestGateway, json } from '../support/gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET = 'Zx9+/=%&: secret with specials';

describe('rfc7009 profile: POST /token/revoke', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
    for (const [clientId, body] of Object.entries({
      'bank-app': { auth_method: 'client_secret_basic', secret: SECRET },
      'post-app': { auth_method: 'client_secret_post', secret: 'post-secret-value' },
      'other-app': { auth_method: 'client_secret_basic', secret: 'other-secret-value' },
      'mobile-app': { auth_method: 'none' },
      'mobile-app-2': { auth_method: 'none' },
    })) {
      expect((await gw.admin('PUT', `/admin/clients/${clientId}`, body)).status).toBe(201);
    }
  });
  afterAll(() => gw.stop());

  /** Registers a refresh token, two access tokens under it and one more access token of the consent. */
  async function grant(clientId = 'bank-app', consentId: string | undefined = newToken('consent')) {
    const family = { rt: newToken('rt'), at1: newToken('at'), at2: newToken('at'), other: newToken('at') };
    const base = { client_id: clientId, grant_id: newToken('grant'), consent_id: consentId, subject: 'psu-1', expires_at: IN_A_YEAR };
    const { status } = await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { ...base, token: family.rt, token_type: 'refresh_token' },
        { ...base, token: family.at1, token_type: 'access_token', refresh_token: family.rt },
        { ...base, token: family.at2, token_type: 'access_token', refresh_token: family.rt },
        { ...base, token: family.other, token_type: 'access_token' },
      ],
    });
    expect(status).toBe(201);
    return family;
  }

  async function active(token: string): Promise<boolean> {
    const { status, body } = await gw.admin('POST', '/admin/tokens/status', { token });
    expect(status).toBe(200);
    return body.active;
  }

  const asBank = { authorization: basic('bank-app', SECRET) };

  describe('success', () => {
    it('revokes an access token with client_secret_basic: 200, empty body, no-store, interaction id', async () => {
      const { at1, at2, rt } = await grant();
      const response = await gw.post('/token/revoke', { token: at1, token_type_hint: 'access_token' }, asBank);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      expect(await active(at1)).toBe(false);
      // access token default level NONE: the refresh token and the sibling stay (RFC 7009 §2.1 "MAY")
      expect(await active(rt)).toBe(true);
      expect(await active(at2)).toBe(true);
    });

    it('revokes a refresh token and every access token issued from it (default RELATED_TOKENS)', async () => {
      const { rt, at1, at2, other } = await grant();
      const response = await gw.post('/token/revoke', { token: rt }, asBank);
      expect(response.status).toBe(200);
      expect([await active(rt), await active(at1), await active(at2)]).toEqual([false, false, false]);
      expect(await active(other)).toBe(true);
    });

    it('revokes with a wrong token_type_hint (the lookup falls back to every type)', async () => {
      const { rt, at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: rt, token_type_hint: 'access_token' }, asBank)).status).toBe(200);
      expect([await active(rt), await active(at1)]).toEqual([false, false]);
    });

    it('ignores an unknown token_type_hint value (RFC 7009 §2.2)', async () => {
      const { at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: at1, token_type_hint: 'id_token' }, asBank)).status).toBe(200);
      expect(await active(at1)).toBe(false);
    });

    it('is idempotent: revoking again answers 200 and the audit shows nothing newly revoked', async () => {
      const { at1 } = await grant();
      const id = '0b0e2a55-4a4c-4f1e-9d0c-1c2b3a4d5e6f';
      expect((await gw.post('/token/revoke', { token: at1 }, asBank)).status).toBe(200);
      const again = await gw.post('/token/revoke', { token: at1 }, { ...asBank, 'x-fapi-interaction-id': id });
      expect(again.status).toBe(200);
      const { body } = await gw.admin('GET', `/admin/revocation-events?interaction_id=${id}`);
      expect(body.events).toEqual([expect.objectContaining({ outcome: 'revoked', revoked: 0, token_type: 'access_token' })]);
    });

    it('answers 200 for an unknown token and audits it as unknown', async () => {
      const id = '5f1c9f2e-0a0b-4c3d-8e7f-123456789abc';
      const response = await gw.post(
        '/token/revoke',
        { token: 'never-issued' },
        { ...asBank, 'x-fapi-interaction-id': id, 'x-fapi-customer-ip-address': '2001:db8::7' },
      );
      expect(response.status).toBe(200);
      const { body } = await gw.admin('GET', `/admin/revocation-events?interaction_id=${id}`);
      expect(body.events).toEqual([
        expect.objectContaining({ outcome: 'unknown', revoked: 0, client_id: 'bank-app', profile: 'rfc7009', psu_ip: '2001:db8::7' }),
      ]);
    });

    it('revokes an expired but registered token', async () => {
      const token = newToken('expired');
      await gw.admin('POST', '/admin/tokens', {
        tokens: [{ token, token_type: 'access_token', client_id: 'bank-app', grant_id: 'g-exp', expires_at: YESTERDAY }],
      });
      expect((await gw.post('/token/revoke', { token }, asBank)).status).toBe(200);
      const { body } = await gw.admin('POST', '/admin/tokens/status', { token });
      expect(body.revoked_at).not.toBeNull();
    });

    it('authenticates with client_secret_post', async () => {
      const { at1 } = await grant('post-app');
      const response = await gw.post('/token/revoke', { token: at1, client_id: 'post-app', client_secret: 'post-secret-value' });
      expect(response.status).toBe(200);
      expect(await active(at1)).toBe(false);
    });

    it('lets a public client (none) revoke its own token', async () => {
      const { rt, at1 } = await grant('mobile-app');
      expect((await gw.post('/token/revoke', { token: rt, client_id: 'mobile-app' })).status).toBe(200);
      expect([await active(rt), await active(at1)]).toEqual([false, false]);
    });

    it('accepts Basic with client_id repeated, equal, in the body', async () => {
      const { at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: at1, client_id: 'bank-app' }, asBank)).status).toBe(200);
    });

    it('accepts a charset parameter on the form content type', async () => {
      const { at1 } = await grant();
      const response = await gw.post('/token/revoke', `token=${encodeURIComponent(at1)}`, {
        ...asBank,
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      });
      expect(response.status).toBe(200);
      expect(await active(at1)).toBe(false);
    });
  });

  describe('ownership (RFC 7009 §2.1)', () => {
    it('refuses a confidential client revoking another client’s token: 400 invalid_request, nothing revoked', async () => {
      const { at1 } = await grant('other-app');
      const response = await gw.post('/token/revoke', { token: at1 }, asBank);
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      expect(await active(at1)).toBe(true);
    });

    it('answers a public client 200 for another client’s token and revokes nothing', async () => {
      const { at1 } = await grant('mobile-app');
      const response = await gw.post('/token/revoke', { token: at1, client_id: 'mobile-app-2' });
      expect(response.status).toBe(200);
      expect(await active(at1)).toBe(true);
    });
  });

  describe('client authentication failures: 401 invalid_client', () => {
    const cases: Array<[string, Record<string, string>, Record<string, string>, boolean]> = [
      ['wrong secret (Basic)', {}, { authorization: basic('bank-app', 'wrong') }, true],
      ['unknown client (Basic)', {}, { authorization: basic('nobody', SECRET) }, true],
      ['malformed Basic header', {}, { authorization: 'Basic !!!' }, true],
      ['a Bearer token instead of client credentials', {}, { authorization: 'Bearer abc' }, true],
      ['wrong secret (post)', { client_id: 'post-app', client_secret: 'nope' }, {}, false],
      ['registered for post, presenting Basic', {}, { authorization: basic('post-app', 'post-secret-value') }, true],
      ['registered for Basic, presenting post', { client_id: 'bank-app', client_secret: SECRET }, {}, false],
      ['a confidential client claiming to be public', { client_id: 'bank-app' }, {}, false],
      ['no credentials at all', {}, {}, false],
      ['an unknown public client', { client_id: 'ghost' }, {}, false],
    ];

    it.each(cases)('%s', async (_name, form, headers, basicAttempt) => {
      const response = await gw.post('/token/revoke', { token: 'whatever', ...form }, headers);
      expect(response.status).toBe(401);
      const body = await json(response);
      expect(body).toEqual({
        error: 'invalid_client',
        error_description: 'client authentication failed',
        client_auth_id: expect.stringMatching(UUID),
      });
      expect(response.headers.get('www-authenticate')).toBe(basicAttempt ? 'Basic realm="revocation"' : null);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });

    it('refuses a deleted client', async () => {
      await gw.admin('PUT', '/admin/clients/leaving-app', { auth_method: 'client_secret_basic', secret: 'leaving-secret' });
      const headers = { authorization: basic('leaving-app', 'leaving-secret') };
      expect((await gw.post('/token/revoke', { token: 'x' }, headers)).status).toBe(200);
      expect((await gw.admin('DELETE', '/admin/clients/leaving-app')).status).toBe(204);
      expect((await gw.post('/token/revoke', { token: 'x' }, headers)).status).toBe(401);
    });
  });

  describe('malformed requests: 400 invalid_request', () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['missing token', 'token_type_hint=access_token', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['empty token', 'token=', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['over-long token', `token=${'a'.repeat(8193)}`, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['repeated token', 'token=a&token=b', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['repeated hint', 'token=a&token_type_hint=access_token&token_type_hint=refresh_token', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['a JSON body', '{"token":"a"}', { 'content-type': 'application/json' }],
      ['a text body', 'token=a', { 'content-type': 'text/plain' }],
      ['a multipart body', '--x\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=x' }],
    ];

    it.each(cases)('%s', async (_name, body, headers) => {
      const response = await gw.post('/token/revoke', body, { ...asBank, ...headers });
      expect(response.status).toBe(400);
      expect((await json(response)).error).toBe('invalid_request');
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('accepts a token of exactly 8192 characters', async () => {
      expect((await gw.post('/token/revoke', { token: 'a'.repeat(8192) }, asBank)).status).toBe(200);
    });

    it('refuses two client authentication methods in one request', async () => {
      const response = await gw.post('/token/revoke', { token: 'a', client_id: 'bank-app', client_secret: SECRET }, asBank);
      expect(response.status).toBe(400);
      expect((await json(response)).error).toBe('invalid_request');
    });

    it('refuses a body client_id that contradicts the Basic header', async () => {
      const response = await gw.post('/token/revoke', { token: 'a', client_id: 'other-app' }, asBank);
      expect(response.status).toBe(400);
    });

    it('answers 413 for a body over 16 KiB', async () => {
      const response = await gw.post('/token/revoke', `token=${'a'.repeat(17 * 1024)}`, asBank);
      expect(response.status).toBe(413);
      expect((await json(response)).error).toBe('invalid_request');
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });
  });

  /**
   * RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted from
   * the request." zitadel/oidc (Go) sends `client_id=` (empty) in the form next to HTTP Basic.
   */
  describe('parameters sent without a value are as if omitted', () => {
    it('revokes with Basic and an empty client_id field, as zitadel/oidc sends it', async () => {
      const { rt } = await grant();
      // zitadel/oidc's RevokeToken body, byte for byte: its form order, client_id empty.
      const response = await gw.post('/token/revoke', `client_id=&token=${encodeURIComponent(rt)}&token_type_hint=refresh_token`, asBank);
      expect(response.status).toBe(200);
      expect(await active(rt)).toBe(false);
    });

    it('an empty client_secret next to Basic is not a second authentication method', async () => {
      const { at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: at1, client_secret: '' }, asBank)).status).toBe(200);
      expect(await active(at1)).toBe(false);
    });

    it('empty client_assertion fields next to Basic are no assertion either', async () => {
      const { at2 } = await grant();
      expect((await gw.post('/token/revoke', { token: at2, client_assertion: '', client_assertion_type: '' }, asBank)).status).toBe(200);
    });

    it('an empty value next to a real one is no repetition', async () => {
      const { other } = await grant();
      expect((await gw.post('/token/revoke', `token=&token=${encodeURIComponent(other)}`, asBank)).status).toBe(200);
      expect(await active(other)).toBe(false);
    });

    it('an empty token_type_hint is no hint (even where the profile checks the hint strictly)', async () => {
      const { at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: at1, token_type_hint: '' }, asBank)).status).toBe(200);
      const idv1 = await gw.post('/api/id/v1/auth/token/revoke', { token: 'x', token_type_hint: '' }, asBank);
      expect(idv1.status).toBe(200);
    });
  });

  describe('x-fapi-interaction-id (docs/api.md §3)', () => {
    it('echoes a valid UUID of any version and case', async () => {
      for (const id of [
        '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
        'A987FBC9-4BED-3078-CF07-9141BA07C9F3'.replace('CF07', 'AF07'),
        '01890a5d-ac96-774b-bcce-b302099a8057',
      ]) {
        const response = await gw.post('/token/revoke', { token: 'x' }, { ...asBank, 'x-fapi-interaction-id': id });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-fapi-interaction-id')).toBe(id);
      }
    });

    it('generates one when the header is absent or empty', async () => {
      const response = await gw.post('/token/revoke', { token: 'x' }, { ...asBank, 'x-fapi-interaction-id': '' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });

    it.each([
      'not-a-uuid',
      '00000000-0000-0000-0000-000000000000',
      '<script>',
      '{6ba7b810-9dad-11d1-80b4-00c04fd430c8}',
      '6ba7b810-9dad-11d1-80b4-00c04fd430c8, 6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    ])('refuses %j with 400 and a fresh id, never the one sent', async (id) => {
      const response = await gw.post('/token/revoke', { token: 'x' }, { ...asBank, 'x-fapi-interaction-id': id });
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('x-fapi-interaction-id') });
      const answered = response.headers.get('x-fapi-interaction-id');
      expect(answered).toMatch(UUID);
      expect(answered).not.toBe(id);
    });
  });

  describe('FAPI request headers (docs/api.md §4)', () => {
    const valid = {
      'x-fapi-auth-date': 'Sun, 22 Nov 2026 17:57:00 GMT',
      'x-fapi-customer-ip-address': '198.51.100.7',
      'x-customer-user-agent': 'Mozilla/5.0 (bank app 1.2)',
    };

    it('accepts well-formed headers', async () => {
      const { at1 } = await grant();
      expect((await gw.post('/token/revoke', { token: at1 }, { ...asBank, ...valid })).status).toBe(200);
      expect(await active(at1)).toBe(false);
    });

    it.each([
      ['x-fapi-auth-date', 'Sun, 31 Feb 2026 17:57:00 GMT'],
      ['x-fapi-auth-date', '2026-11-22T17:57:00Z'],
      ['x-fapi-customer-ip-address', '300.1.1.1'],
      ['x-fapi-customer-ip-address', 'localhost'],
      ['x-customer-user-agent', 'a'.repeat(513)],
    ])('refuses a malformed %s with 400 naming it, before authenticating', async (header, value) => {
      const response = await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('bank-app', 'wrong'), [header]: value });
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: 'invalid_request', error_description: `${header} is malformed` });
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });
  });

  describe('hostile input', () => {
    it.each([
      ['a NUL in a public client_id', 'token=x&client_id=pub%00', {}],
      ['a NUL in a client_secret_post client_id', 'token=x&client_id=a%00&client_secret=s', {}],
      ['a NUL in a Basic client_id', 'token=x', { authorization: `Basic ${Buffer.from('a%00b:s').toString('base64')}` }],
      ['a control character in client_id', 'token=x&client_id=a%0Ab', {}],
    ])('answers 401, not 500, to %s', async (_name, body, headers) => {
      const response = await gw.post('/token/revoke', body, headers);
      expect(response.status).toBe(401);
      expect((await json(response)).error).toBe('invalid_client');
    });

    it('answers an undecodable URL in the contract shape, with an interaction id and no echo', async () => {
      const answer = await rawHttp(gw.publicUrl, 'POST /token/revoke% HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/\r\nx-fapi-interaction-id: [0-9a-f-]{36}\r\n/i);
      expect(answer).toMatch(/\r\ncache-control: no-store\r\n/i);
      expect(answer).toContain('{"error":"invalid_request"');
      expect(answer).not.toContain('/token/revoke%');
    });

    it('answers headers over the size limit with 431 in the contract shape', async () => {
      const answer = await rawHttp(gw.publicUrl, `POST /token/revoke HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toMatch(/\r\nx-fapi-interaction-id: [0-9a-f-]{36}\r\n/i);
      expect(answer).toContain('{"error":"invalid_request"');
    });

    it('answers an unparseable request (Content-Length with Transfer-Encoding) with 400 in the contract shape', async () => {
      const answer = await rawHttp(gw.publicUrl, 'POST /token/revoke HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/\r\nx-fapi-interaction-id: [0-9a-f-]{36}\r\n/i);
    });
  });

  describe('routing', () => {
    it('answers 404 not_found for an unknown route, with the rfc7009 shape and headers', async () => {
      const response = await fetch(`${gw.publicUrl}/token/nowhere`, { method: 'POST' });
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({ error: 'not_found', error_description: expect.any(String) });
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it.each(['GET', 'PUT', 'DELETE'])('answers 405 method_not_allowed to %s on the revocation route', async (method) => {
      const response = await fetch(`${gw.publicUrl}/token/revoke`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect((await json(response)).error).toBe('method_not_allowed');
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });

    it('does not serve the admin API or health on the public port', async () => {
      for (const path of ['/admin/revocation-events', '/health/ready']) {
        expect((await fetch(gw.publicUrl + path, { headers: { authorization: 'Bearer test-admin-token-0123456789' } })).status).toBe(404);
      }
    });
  });
});
