import { closedPort, json, startReplicas, startTestGateway, type TestGateway } from '../support/gateway';
import { assertionForm, clientAssertion, signingKey, type SigningKey } from '../support/keys';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client assertion used on one replica is refused on another (RFC 7523 §3 item 7). */
describe('jti replay store shared by replicas', () => {
  let key: SigningKey;
  beforeAll(async () => (key = await signingKey('ES256')));

  async function register(gw: TestGateway) {
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  }

  describe('in Redis (REDIS_URL)', () => {
    let a: TestGateway;
    let b: TestGateway;
    beforeAll(async () => {
      a = await startTestGateway({ REDIS_URL });
      b = await startTestGateway({ REDIS_URL });
      await register(a);
      await register(b);
    });
    afterAll(async () => {
      await a.stop();
      await b.stop();
    });

    it('is ready while PostgreSQL and Redis answer', async () => {
      const ready = await fetch(`${a.managementUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await json(ready)).toEqual({ status: 'ok', details: { database: { status: 'up' }, redis: { status: 'up' } } });
    });

    it('refuses on replica B an assertion already used on replica A', async () => {
      const assertion = await clientAssertion(key, 'tpp');
      expect((await a.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
      expect((await b.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
      expect((await a.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(key, 'tpp')) })).status).toBe(200);
    });

    it('takes a fractional exp (RFC 7519 NumericDate allows one), and still refuses its replay', async () => {
      for (const exp of [Date.now() / 1000 + 30.5, Math.floor(Date.now() / 1000) + 59.999]) {
        const assertion = await clientAssertion(key, 'tpp', { exp, iat: Date.now() / 1000 });
        expect((await a.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
        expect((await b.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
      }
    });
  });

  describe('Redis unreachable', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      const port = await closedPort();
      gw = await startTestGateway({ REDIS_URL: `redis://127.0.0.1:${port}` });
      await register(gw);
    });
    afterAll(() => gw.stop());

    it('answers 503 + Retry-After: a replay cannot be ruled out, the client retries', async () => {
      const response = await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(key, 'tpp')) });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBeTruthy();
      expect((await json(response)).error).toBe('temporarily_unavailable');
    });

    it('is not ready (docs/api.md §10: readiness needs Redis when it is configured)', async () => {
      const ready = await fetch(`${gw.managementUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await json(ready)).toEqual({ status: 'error', details: { database: { status: 'up' }, redis: { status: 'down' } } });
    });
  });

  const withServer = process.env.DATABASE_URL ? describe : describe.skip;
  withServer('in PostgreSQL (two replicas on one database; needs DATABASE_URL)', () => {
    let a: TestGateway;
    let b: TestGateway;
    let replicas: Awaited<ReturnType<typeof startReplicas>>;
    beforeAll(async () => {
      replicas = await startReplicas();
      ({ a, b } = replicas);
      await register(a);
    });
    afterAll(() => replicas.stop());

    it('refuses on replica B an assertion already used on replica A', async () => {
      const assertion = await clientAssertion(key, 'tpp');
      expect((await a.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
      expect((await b.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
    });
  });
});
