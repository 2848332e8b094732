import { basic, startReplicas, startTestGateway, type TestGateway } from '../support/gateway';

const asApp = { authorization: basic('app', 'app-secret-value') };

/** CLIENT_CACHE_TTL_MS: registrations are re-read at most that late, on every replica. */
describe('client registration cache', () => {
  it('a change made through this replica applies to its very next request', async () => {
    const gw = await startTestGateway({ CLIENT_CACHE_TTL_MS: '60000' });
    try {
      await gw.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'app-secret-value' });
      expect((await gw.post('/token/revoke', { token: 'x' }, asApp)).status).toBe(200);
      await gw.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'rotated-secret-value' });
      expect((await gw.post('/token/revoke', { token: 'x' }, asApp)).status).toBe(401);
      await gw.admin('DELETE', '/admin/clients/app');
      expect((await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('app', 'rotated-secret-value') })).status).toBe(401);
    } finally {
      await gw.stop();
    }
  });

  const withServer = process.env.DATABASE_URL ? describe : describe.skip;
  withServer('two replicas on one database (needs DATABASE_URL)', () => {
    let a: TestGateway;
    let b: TestGateway;
    let replicas: Awaited<ReturnType<typeof startReplicas>>;
    beforeAll(async () => {
      replicas = await startReplicas({ CLIENT_CACHE_TTL_MS: '500' });
      ({ a, b } = replicas);
    });
    afterAll(() => replicas.stop());

    it('a client deleted on one replica stops authenticating on the other within the TTL', async () => {
      await a.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'app-secret-value' });
      expect((await b.post('/token/revoke', { token: 'x' }, asApp)).status).toBe(200);
      await a.admin('DELETE', '/admin/clients/app');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await b.post('/token/revoke', { token: 'x' }, asApp)).status).toBe(401);
    });
  });
});
