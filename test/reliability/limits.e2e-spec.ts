import { IN_A_YEAR, json, rawHttp, startTestGateway, type TestGateway } from '../support/gateway';
import { assertionForm, clientAssertion, JwksServer, signingKey, type SigningKey } from '../support/keys';
import { FAILED_FETCH_HOLD_MS } from '../../src/client-auth/key-sets';

const INTERACTION_ID = /\r\nx-fapi-interaction-id: [0-9a-f-]{36}\r\n/i;

/**
 * The reliability issue, limits: every input a client or a TPP's key server controls is bounded,
 * and crossing a bound is a clear error in the contract's shape, in bounded time. The bounds on
 * header size (16 KiB: 431), body size (16 KiB: 413) and token length (8,192: 400) have their
 * own tests with the rfc7009 profile; this file covers the rest.
 */
describe('limits', () => {
  let gw: TestGateway;
  let key: SigningKey;
  const jwks = new JwksServer();

  beforeAll(async () => {
    key = await signingKey('ES256');
    await jwks.start();
    jwks.cacheControl = 'no-store';
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_post', secret: 'app-secret-value' });
    await gw.admin('PUT', '/admin/clients/uri-app', { auth_method: 'private_key_jwt', jwks_uri: jwks.url });
  });
  afterAll(async () => {
    await gw?.stop();
    await jwks.stop();
  });

  const revoke = (headers: string) =>
    rawHttp(
      gw.publicUrl,
      `POST /token/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 52\r\n${headers}Connection: close\r\n\r\ntoken=x&client_id=app&client_secret=app-secret-value`,
      { halfClose: false },
    );

  // Node bounds the header block (16 KiB, counted its own way: Node 20 lets many tiny headers run
  // somewhat past it, Node 24 counts stricter) and keeps only the first 2,000 headers.
  describe('header count: bounded by the size of the headers', () => {
    it('serves a request with 500 headers', async () => {
      const answer = await revoke(Array.from({ length: 500 }, (_, i) => `x${i}: y\r\n`).join(''));
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('refuses 10,000 tiny headers (about 100 KiB): 431 in the contract shape, or the connection cut mid-send', async () => {
      // The gateway answers as soon as the bound is crossed and closes; a client still sending may
      // see that close as a reset before it reads the 431. Either way nothing past the bound is served.
      const answer = await revoke(Array.from({ length: 10000 }, (_, i) => `x${i}: y\r\n`).join('')).catch((error: NodeJS.ErrnoException) => error.code);
      if (answer === 'ECONNRESET' || answer === 'EPIPE') return;
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toMatch(INTERACTION_ID);
      expect(answer).toContain('{"error":"invalid_request"');
    });

    it('refuses a request line (URL) past 16 KiB with 431', async () => {
      const answer = await rawHttp(gw.publicUrl, `POST /token/revoke?${'q'.repeat(20000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toMatch(INTERACTION_ID);
    });
  });

  describe('a registered JWK Set: at most 64 KiB', () => {
    it('refuses a larger one with 400 and keeps the client as it was', async () => {
      const padding = 'x'.repeat(64 * 1024);
      const response = await gw.admin('PUT', '/admin/clients/big-keys', { auth_method: 'private_key_jwt', jwks: { keys: [{ ...key.publicJwk, padding }] } });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain('64 KiB');
      expect((await gw.admin('PUT', '/admin/clients/big-keys', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })).status).toBe(201);
    });
  });

  describe('a jwks_uri: at most 64 KiB, within 2 s from connect to last byte', () => {
    afterEach(async () => {
      jwks.padding = 0;
      jwks.delayMs = 0;
      jwks.dripMs = 0;
      // A failed fetch is the answer for FAILED_FETCH_HOLD_MS: each case meets the key server afresh.
      await new Promise((resolve) => setTimeout(resolve, FAILED_FETCH_HOLD_MS + 100));
    });
    const authenticate = async () => {
      const started = Date.now();
      const response = await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(key, 'uri-app')) });
      return { status: response.status, body: await json(response).catch(() => undefined), ms: Date.now() - started };
    };

    it('authenticates with a set served within the bounds', async () => {
      jwks.keys = [key.publicJwk];
      expect((await authenticate()).status).toBe(200);
    });

    it('refuses a set over 64 KiB: 401, as for any unusable key set', async () => {
      jwks.keys = [key.publicJwk];
      jwks.padding = 70 * 1024;
      const answer = await authenticate();
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: 'invalid_client' });
    });

    it.each([
      ['answers after 5 s', { delayMs: 5000 }],
      ['sends its body a byte every 100 ms', { dripMs: 100 }],
    ])('gives up on a key server that %s: 401 within about 2 s', async (_, slow) => {
      jwks.keys = [key.publicJwk];
      Object.assign(jwks, slow);
      const answer = await authenticate();
      expect(answer.status).toBe(401);
      expect(answer.ms).toBeGreaterThanOrEqual(1900);
      expect(answer.ms).toBeLessThan(3500);
    });
  });

  it('still serves once every bound has been crossed', async () => {
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token: 'limits-after', token_type: 'access_token', client_id: 'app', grant_id: 'g', expires_at: IN_A_YEAR }],
    });
    expect((await gw.post('/token/revoke', { token: 'limits-after', client_id: 'app', client_secret: 'app-secret-value' })).status).toBe(200);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
  });
});
