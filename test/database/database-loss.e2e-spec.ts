import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/database/embedded';
import { basic, freshDatabase, IN_A_YEAR, newToken, startTestGateway, type TestGateway, json } from '../support/gateway';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * RFC 7009 §2.2.1: when the server cannot revoke, it answers 503 so that the client retries;
 * never 500, never a hang, and the gateway recovers on its own when the database is back.
 */
describe('database loss', () => {
  let gw: TestGateway;
  let proxy: TcpProxy;
  let embedded: EmbeddedPostgres | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const auth = { authorization: basic('tpp', 'tpp-secret-value') };

  beforeAll(async () => {
    const fresh = await freshDatabase();
    embedded = fresh ? undefined : await startEmbeddedPostgres(undefined);
    dropDatabase = fresh?.drop;
    const url = fresh?.url ?? embedded!.url;
    const target = new URL(url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    gw = await startTestGateway({
      DATABASE_URL: proxy.route(url),
      MIGRATIONS_RUN: 'true',
      DATABASE_POOL_SIZE: embedded ? '1' : '4',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });

  afterAll(async () => {
    await gw.stop();
    await proxy.stop();
    await embedded?.stop();
    await dropDatabase?.();
  });

  async function expectUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
    expect(await json(response)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  }

  it('answers 503 + Retry-After while the database refuses connections, then recovers without a restart', async () => {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }],
    });
    await proxy.refuse();
    await expectUnavailable(await gw.post('/token/revoke', { token }, auth));
    const ready = await fetch(`${gw.managementUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({ status: 'error', details: { database: { status: 'down' } } });
    expect((await fetch(`${gw.managementUrl}/health/live`)).status).toBe(200);
    // nothing was half-applied: the token is still active once the database is back
    await proxy.restore();
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(true);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(200);
    expect((await gw.post('/token/revoke', { token }, auth)).status).toBe(200);
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(false);
  });

  it('answers 503 within the connect timeout when the database stops answering', async () => {
    proxy.blackhole();
    const started = Date.now();
    await expectUnavailable(await gw.post('/token/revoke', { token: 'x' }, auth));
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await fetch(`${gw.managementUrl}/health/ready`)).status).toBe(503);
    await proxy.restore();
    expect((await gw.post('/token/revoke', { token: 'x' }, auth)).status).toBe(200);
  });
});
