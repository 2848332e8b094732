import { randomBytes, randomUUID } from 'node:crypto';
import { FakeUpstream, type UpstreamBehaviour } from '../support/fake-upstream';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';

const SECRET = 'tpp-secret-value';
const asTpp = { authorization: basic('tpp', SECRET) };
const UPSTREAM_ID = 'gateway-client';
const UPSTREAM_SECRET = 'gw secret:with/specials';

/** docs/api.md §6: revocations propagated to an upstream authorization server, as callers see them. */
describe('upstream propagation', () => {
  const upstream = new FakeUpstream();
  let gw: TestGateway;
  let key: SigningKey;

  beforeAll(async () => {
    await upstream.up();
    key = await signingKey('ES256');
    gw = await startTestGateway({
      UPSTREAM_REVOCATION_URL: upstream.url,
      UPSTREAM_CLIENT_ID: UPSTREAM_ID,
      UPSTREAM_CLIENT_SECRET: UPSTREAM_SECRET,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      UPSTREAM_TIMEOUT_MS: '400',
      // This file is about the status mapping; the breaker has its own file.
      UPSTREAM_BREAKER_FAILURES: '1000',
    });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: SECRET });
    await gw.admin('PUT', '/admin/clients/other', { auth_method: 'client_secret_basic', secret: 'other-secret-value' });
    await gw.admin('PUT', '/admin/clients/fapi-tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  beforeEach(() => (upstream.behaviour = { kind: 'answer', status: 200 }));
  afterAll(async () => {
    await gw.stop();
    await upstream.down();
  });

  async function register(clientId = 'tpp', consentId?: string) {
    const rt = newToken('rt');
    const at = newToken('at');
    const base = { client_id: clientId, grant_id: newToken('grant'), consent_id: consentId, expires_at: IN_A_YEAR };
    const { status } = await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { ...base, token: rt, token_type: 'refresh_token' },
        { ...base, token: at, token_type: 'access_token', refresh_token: rt },
      ],
    });
    expect(status).toBe(201);
    return { rt, at };
  }
  const active = async (token: string) => (await gw.admin('POST', '/admin/tokens/status', { token })).body.active;
  const outboxRows = async (interactionId: string) =>
    gw.database.dataSource.query(`SELECT sealed_token, attempts, dead_at FROM upstream_outbox WHERE interaction_id = $1`, [interactionId]);
  const revoke = (token: string, interactionId = randomUUID(), extra: Record<string, string> = {}) =>
    gw.post('/token/revoke', { token, ...extra }, { ...asTpp, 'x-fapi-interaction-id': interactionId });

  describe('when the upstream confirms', () => {
    it('revokes here and there: the presented token, its type, the gateway’s Basic credentials, the caller’s interaction id', async () => {
      const { rt, at } = await register();
      const interactionId = randomUUID();
      const response = await revoke(rt, interactionId);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      expect([await active(rt), await active(at)]).toEqual([false, false]);

      const [seen, ...more] = upstream.requestsFor(rt);
      expect(more).toEqual([]);
      expect(Object.fromEntries(seen.form)).toEqual({ token: rt, token_type_hint: 'refresh_token' });
      expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(seen.headers['x-fapi-interaction-id']).toBe(interactionId);
      const [id, secret] = Buffer.from(seen.headers.authorization!.replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      expect([decodeURIComponent(id), decodeURIComponent(secret.replace(/\+/g, ' '))]).toEqual([UPSTREAM_ID, UPSTREAM_SECRET]);
      // The upstream cascades itself: the access token under the refresh token is not sent.
      expect(upstream.requestsFor(at)).toEqual([]);
      // Delivered, so nothing is left in the outbox.
      expect(await outboxRows(interactionId)).toEqual([]);
    });

    it('forwards a token the gateway does not know, with the caller’s hint, and answers as for an unknown token', async () => {
      const token = newToken('legacy');
      const response = await revoke(token, randomUUID(), { token_type_hint: 'access_token' });
      expect(response.status).toBe(200);
      expect(Object.fromEntries(upstream.requestsFor(token)[0].form)).toEqual({ token, token_type_hint: 'access_token' });

      // fapi: an RFC 7009 upstream says 200 for unknown tokens too, so unknown stays 404 (docs/api.md §2).
      const fapiToken = newToken('legacy');
      const assertion = await clientAssertion(key, 'fapi-tpp', { aud: `${ISSUER}/token/revocation` });
      const fapi = await gw.post('/token/revocation', { token: fapiToken, ...assertionForm(assertion) });
      expect(fapi.status).toBe(404);
      expect(upstream.requestsFor(fapiToken)).toHaveLength(1);
    });

    it('never forwards a token registered in another tenant (it is not "unknown" to the gateway)', async () => {
      expect(
        (await gw.admin('PUT', '/admin/clients/victim', { tenant: 'bank-b', auth_method: 'client_secret_basic', secret: 'victim-secret-value' })).status,
      ).toBe(201);
      const token = newToken('rt');
      await gw.admin('POST', '/admin/tokens', {
        tenant: 'bank-b',
        tokens: [{ token, token_type: 'refresh_token', client_id: 'victim', grant_id: 'g', expires_at: IN_A_YEAR }],
      });
      const interactionId = randomUUID();
      const response = await revoke(token, interactionId);
      // Unknown in the caller's tenant: the rfc7009 answer for an unknown token, and nothing sent.
      expect(response.status).toBe(200);
      expect(upstream.requestsFor(token)).toEqual([]);
      expect(await outboxRows(interactionId)).toEqual([]);
      expect((await gw.admin('POST', '/admin/tokens/status', { tenant: 'bank-b', token })).body.active).toBe(true);
    });

    it('never forwards another client’s token (the gateway’s credentials would revoke it upstream)', async () => {
      const { at } = await register('other');
      const interactionId = randomUUID();
      const response = await revoke(at, interactionId);
      expect(response.status).toBe(400);
      expect(upstream.requestsFor(at)).toEqual([]);
      expect(await outboxRows(interactionId)).toEqual([]);
      expect(await active(at)).toBe(true);
    });

    it('keeps cdr arrangement revocations and admin bulk revocations local', async () => {
      const consentId = newToken('consent');
      const { at } = await register('fapi-tpp', consentId);
      upstream.behaviour = { kind: 'answer', status: 500 };
      const before = upstream.seen.length;
      const assertion = await clientAssertion(key, 'fapi-tpp', { aud: `${ISSUER}/arrangements/revoke` });
      const cdr = await gw.post('/arrangements/revoke', { cdr_arrangement_id: consentId, ...assertionForm(assertion) });
      expect(cdr.status).toBe(204);
      expect(await active(at)).toBe(false);

      const { rt } = await register();
      expect((await gw.admin('POST', '/admin/revocations', { client_id: 'tpp' })).status).toBe(200);
      expect(await active(rt)).toBe(false);
      expect(upstream.requestsFor(at)).toEqual([]);
      expect(upstream.requestsFor(rt)).toEqual([]);
      expect(upstream.seen.slice(before).filter((r) => [at, rt].includes(r.form.get('token')!))).toEqual([]);
    });
  });

  describe('when the upstream fails (docs/api.md §6 mapping), the revocation stands and waits in the outbox', () => {
    const rows: Array<[string, UpstreamBehaviour | 'down', number, string]> = [
      ['a timeout', { kind: 'answer', status: 200, delayMs: 1500 }, 504, 'gateway_timeout'],
      ['a body that never ends (UPSTREAM_TIMEOUT_MS bounds the whole exchange)', { kind: 'drip' }, 504, 'gateway_timeout'],
      ['503', { kind: 'answer', status: 503 }, 504, 'gateway_timeout'],
      ['429', { kind: 'answer', status: 429 }, 504, 'gateway_timeout'],
      ['a reset connection', { kind: 'reset' }, 502, 'bad_gateway'],
      ['a refused connection', 'down', 502, 'bad_gateway'],
      ['500', { kind: 'answer', status: 500 }, 502, 'bad_gateway'],
      ['502', { kind: 'answer', status: 502 }, 502, 'bad_gateway'],
      ['400 (unexpected 4xx)', { kind: 'answer', status: 400, body: '{"error":"invalid_request"}' }, 502, 'bad_gateway'],
      ['401 (our credentials refused)', { kind: 'answer', status: 401, body: '{"error":"invalid_client"}' }, 502, 'bad_gateway'],
      ['200 with an HTML page (unexpected body)', { kind: 'answer', status: 200, body: '<html>sign in</html>', contentType: 'text/html' }, 502, 'bad_gateway'],
    ];
    const pending: Array<{ token: string; interactionId: string }> = [];

    afterAll(() => upstream.up());

    it.each(rows)('upstream %s → %i %s, with interaction id and the profile’s body', async (_, behaviour, status, code) => {
      if (behaviour === 'down') await upstream.down();
      else upstream.behaviour = behaviour;
      const { at } = await register();
      const interactionId = randomUUID();
      const response = await revoke(at, interactionId);

      expect(response.status).toBe(status);
      expect(response.headers.get('x-fapi-interaction-id')).toBe(interactionId);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await json(response)).toEqual({ error: code, error_description: expect.any(String) });
      // Revoked here regardless, and kept for delivery: encrypted, never in clear.
      expect(await active(at)).toBe(false);
      const [row] = await outboxRows(interactionId);
      expect(row.dead_at).toBeNull();
      expect(Buffer.from(row.sealed_token).includes(Buffer.from(at))).toBe(false);
      pending.push({ token: at, interactionId });

      if (behaviour === 'down') await upstream.up();
    });

    it('delivers every kept revocation once the upstream heals, with its original interaction id, and empties the outbox', async () => {
      upstream.behaviour = { kind: 'answer', status: 200 };
      await eventually(async () => (await gw.database.dataSource.query(`SELECT 1 FROM upstream_outbox`)).length === 0, 15_000, 'empty outbox');
      for (const { token, interactionId } of pending) {
        const last = upstream.requestsFor(token).at(-1)!;
        expect(last.headers['x-fapi-interaction-id']).toBe(interactionId);
        expect(last.form.get('token')).toBe(token);
      }
    }, 20_000);
  });

  describe('UPSTREAM_DIALECT=oam, with a public upstream client (UPSTREAM_CLIENT_ID only)', () => {
    const oam = new FakeUpstream();
    let oamGw: TestGateway;
    beforeAll(async () => {
      await oam.up();
      oamGw = await startTestGateway({
        UPSTREAM_REVOCATION_URL: oam.url,
        UPSTREAM_DIALECT: 'oam',
        UPSTREAM_CLIENT_ID: UPSTREAM_ID,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        UPSTREAM_TIMEOUT_MS: '400',
      });
      await oamGw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: SECRET });
    });
    beforeEach(() => (oam.behaviour = { kind: 'answer', status: 200, body: '{"status":"success"}' }));
    afterAll(async () => {
      await oamGw.stop();
      await oam.down();
    });

    it('sends OAM’s hint and the requested level, and the client id in the body instead of Basic', async () => {
      const token = newToken('rt');
      await oamGw.admin('POST', '/admin/tokens', {
        tokens: [{ token, token_type: 'refresh_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }],
      });
      const response = await oamGw.post('/oauth2/rest/token/revoke', { token, revocation_level: 'RELATED_CONSENT' }, asTpp);
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ status: 'success' });
      const [seen] = oam.requestsFor(token);
      expect(Object.fromEntries(seen.form)).toEqual({ token, token_type_hint: 'REFRESH_TOKEN', revocation_level: 'RELATED_CONSENT', client_id: UPSTREAM_ID });
      expect(seen.headers.authorization).toBeUndefined();
    });

    it('asks no cascade for a token it does not know: nothing here vouches for more than the token', async () => {
      const token = newToken('legacy');
      const response = await oamGw.post('/oauth2/rest/token/revoke', { token, revocation_level: 'RELATED_CONSENT' }, asTpp);
      expect(response.status).toBe(200);
      expect(Object.fromEntries(oam.requestsFor(token)[0].form)).toEqual({ token, token_type_hint: 'NONE', client_id: UPSTREAM_ID });
    });

    it('treats any answer but {"status":"success"} as unexpected (502), and does not claim an unknown token was revoked here', async () => {
      oam.behaviour = { kind: 'answer', status: 200, body: '' };
      const token = newToken('legacy');
      const response = await oamGw.post('/token/revoke', { token }, asTpp);
      expect(response.status).toBe(502);
      const body = await json(response);
      expect(body).toEqual({ error: 'bad_gateway', error_description: expect.stringContaining('not known here') });
    });
  });

  describe('each profile answers 502/504 in its own shape', () => {
    beforeEach(() => (upstream.behaviour = { kind: 'answer', status: 500 }));

    it('fapi: {"errors":[...]}', async () => {
      const assertion = await clientAssertion(key, 'fapi-tpp', { aud: `${ISSUER}/token/revocation` });
      const { at } = await register('fapi-tpp');
      const response = await gw.post('/token/revocation', { token: at, ...assertionForm(assertion) });
      expect(response.status).toBe(502);
      expect(await json(response)).toEqual({ errors: [expect.any(String)] });
    });

    it('oam: {"errorCode","errorMessage"}, and the oam dialect is not needed for the oam profile', async () => {
      upstream.behaviour = { kind: 'answer', status: 503 };
      const { at } = await register();
      const response = await gw.post('/oauth2/rest/token/revoke', { token: at, revocation_level: 'RELATED_TOKENS' }, asTpp);
      expect(response.status).toBe(504);
      expect(await json(response)).toEqual({ errorCode: 'gateway_timeout', errorMessage: expect.any(String) });
      expect(Object.fromEntries(upstream.requestsFor(at)[0].form)).toEqual({ token: at, token_type_hint: 'access_token' });
    });

    it('idv1: {"error","errorDescription"}', async () => {
      const { at } = await register();
      const response = await gw.post('/api/id/v1/auth/token/revoke', { token: at }, asTpp);
      expect(response.status).toBe(502);
      expect(await json(response)).toEqual({ error: 'bad_gateway', errorDescription: expect.any(String) });
    });
  });
});
