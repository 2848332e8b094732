import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { closedPort, json, startTestGateway, type TestGateway } from '../support/gateway';
import { TcpProxy } from '../support/tcp-proxy';
import { assertionForm, clientAssertion, signingKey } from '../support/keys';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** docs/api.md §7: per-IP budget first, per-client budget after authentication; 429 + Retry-After. */
describe('throttling', () => {
  async function withPublicClient(gw: TestGateway, clientId = 'public-app') {
    await gw.admin('PUT', `/admin/clients/${clientId}`, { auth_method: 'none' });
  }

  describe('per source IP (in process)', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '3', THROTTLE_TTL_MS: '60000' });
      await withPublicClient(gw);
    });
    afterAll(() => gw.stop());

    it('answers the request over the limit with 429, Retry-After in whole seconds, the interaction id and the profile body', async () => {
      for (let i = 0; i < 3; i++) expect((await gw.post('/token/revoke', { token: 'x', client_id: 'public-app' })).status).toBe(200);
      const throttled = await gw.post('/token/revoke', { token: 'x', client_id: 'public-app' });
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(throttled.headers.get('x-fapi-interaction-id')).toBeTruthy();
      expect(await json(throttled)).toEqual({ error: 'too_many_requests', error_description: expect.any(String) });
      const fapi = await gw.post('/token/revocation', { token: 'x' });
      expect(fapi.status).toBe(429);
      expect(await json(fapi)).toEqual({ errors: ['Too many requests, maximum capacity reached. Requests are now throttled.'] });
      expect((await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`)).status).toBe(429);
      expect(await (await fetch(`${gw.managementUrl}/metrics`)).text()).toContain('revgw_throttled_requests_total{scope="ip"} 3');
    });

    it('never throttles the management port', async () => {
      for (let i = 0; i < 5; i++) expect((await fetch(`${gw.managementUrl}/health/live`)).status).toBe(200);
    });
  });

  describe('per client, after authentication', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '1000', THROTTLE_CLIENT_LIMIT: '2' });
      await withPublicClient(gw, 'busy-app');
      await withPublicClient(gw, 'quiet-app');
    });
    afterAll(() => gw.stop());

    it('limits one client without touching another', async () => {
      for (let i = 0; i < 2; i++) expect((await gw.post('/token/revoke', { token: 'x', client_id: 'busy-app' })).status).toBe(200);
      const throttled = await gw.post('/token/revoke', { token: 'x', client_id: 'busy-app' });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await gw.post('/token/revoke', { token: 'x', client_id: 'quiet-app' })).status).toBe(200);
      expect(await (await fetch(`${gw.managementUrl}/metrics`)).text()).toContain('revgw_throttled_requests_total{scope="client"} 1');
    });

    it('counts only authenticated requests against a client', async () => {
      await withPublicClient(gw, 'target-app');
      const key = await signingKey('ES256');
      await gw.admin('PUT', '/admin/clients/jwt-app', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      for (let i = 0; i < 5; i++) {
        const forged = await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(await signingKey('ES256'), 'jwt-app')) });
        expect(forged.status).toBe(401);
      }
      expect((await gw.post('/token/revoke', { token: 'x', ...assertionForm(await clientAssertion(key, 'jwt-app')) })).status).toBe(200);
    });
  });

  describe('behind a trusted proxy', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '1', TRUSTED_PROXIES: '127.0.0.1' });
      await withPublicClient(gw);
    });
    afterAll(() => gw.stop());

    it('budgets each right-most untrusted X-Forwarded-For address separately', async () => {
      const from = (ip: string) => gw.post('/token/revoke', { token: 'x', client_id: 'public-app' }, { 'x-forwarded-for': `203.0.113.99, ${ip}` });
      expect((await from('198.51.100.1')).status).toBe(200);
      expect((await from('198.51.100.1')).status).toBe(429);
      expect((await from('198.51.100.2')).status).toBe(200);
    });
  });

  describe('a public client’s budget is per client and source, so a stranger cannot spend the app’s', () => {
    let gw: TestGateway;
    const from = (address: string) => ({ 'x-forwarded-for': address });
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '1000', THROTTLE_CLIENT_LIMIT: '2', TRUSTED_PROXIES: '127.0.0.1' });
      await withPublicClient(gw, 'mobile-app');
      await gw.admin('PUT', '/admin/clients/confidential-app', { auth_method: 'client_secret_post', secret: 'confidential-secret' });
    });
    afterAll(() => gw.stop());

    it('one source that spends a public client’s budget is throttled alone; every other user still revokes', async () => {
      for (let i = 0; i < 2; i++) expect((await gw.post('/token/revoke', { token: 'x', client_id: 'mobile-app' }, from('203.0.113.5'))).status).toBe(200);
      for (const profile of ['/token/revoke', '/oauth2/rest/token/revoke', '/api/id/v1/auth/token/revoke']) {
        expect((await gw.post(profile, { token: 'x', client_id: 'mobile-app' }, from('203.0.113.5'))).status).toBe(429);
      }
      for (const user of ['198.51.100.7', '198.51.100.8', '2001:db8:aaaa:1::1']) {
        expect((await gw.post('/token/revoke', { token: 'x', client_id: 'mobile-app' }, from(user))).status).toBe(200);
      }
    });

    it('a stranger cannot dodge his own budget with other spellings of his address', async () => {
      for (let i = 0; i < 2; i++)
        expect((await gw.post('/token/revoke', { token: 'x', client_id: 'mobile-app' }, from('2001:db8:bbbb:2::1'))).status).toBe(200);
      for (const spelling of [
        '2001:db8:bbbb:2::2',
        '2001:DB8:BBBB:2:0:0:0:99',
        '[2001:db8:bbbb:2::3]:443',
        'fe80::1%eth0'.replace('fe80::1', '2001:db8:bbbb:2::4'),
      ]) {
        expect((await gw.post('/token/revoke', { token: 'x', client_id: 'mobile-app' }, from(spelling))).status).toBe(429);
      }
    });

    it('a confidential client keeps one budget, wherever it calls from', async () => {
      const form = { token: 'x', client_id: 'confidential-app', client_secret: 'confidential-secret' };
      for (let i = 0; i < 2; i++) expect((await gw.post('/token/revoke', form, from('203.0.113.20'))).status).toBe(200);
      expect((await gw.post('/token/revoke', form, from('198.51.100.20'))).status).toBe(429);
    });
  });

  describe('IPv6 sources share a budget per /64 (THROTTLE_IPV6_PREFIX)', () => {
    let gw: TestGateway;
    let perAddress: TestGateway;
    const from = (address: string) => ({ 'x-forwarded-for': address });
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '3', TRUSTED_PROXIES: '127.0.0.1' });
      perAddress = await startTestGateway({ THROTTLE_IP_LIMIT: '3', TRUSTED_PROXIES: '127.0.0.1', THROTTLE_IPV6_PREFIX: '128' });
    });
    afterAll(async () => {
      await gw.stop();
      await perAddress.stop();
    });
    const metadata = (on: TestGateway, address: string) =>
      fetch(`${on.publicUrl}/.well-known/oauth-authorization-server`, { headers: from(address) }).then((r) => r.status);

    it('throttles a whole /64 together, whatever addresses, spellings or zone ids it uses', async () => {
      const oneNetwork = ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:DB8:1:2::3', '2001:db8:1:2::4%eth0', '[2001:db8:1:2::5]:8443'];
      expect(await Promise.all(oneNetwork.slice(0, 3).map((a) => metadata(gw, a)))).toEqual([200, 200, 200]);
      for (const address of oneNetwork.slice(3)) expect(await metadata(gw, address)).toBe(429);
      expect(await metadata(gw, '2001:db8:1:3::1')).toBe(200);
    });

    it('with THROTTLE_IPV6_PREFIX=128, per address', async () => {
      for (let i = 1; i <= 5; i++) expect(await metadata(perAddress, `2001:db8:9:9::${i}`)).toBe(200);
    });
  });

  describe('a connection its client reset', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ THROTTLE_IP_LIMIT: '5' });
    });
    afterAll(() => gw.stop());

    it('is still charged to a budget: its peer address is gone, its requests share one', async () => {
      const { port } = new URL(gw.publicUrl);
      const body = 'token=x&client_id=nobody';
      const request = `POST /token/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      for (let i = 0; i < 40; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            socket.write(request.repeat(3), () => {
              socket.resetAndDestroy();
              resolve();
            });
          });
          socket.on('error', () => resolve());
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const text = await (await fetch(`${gw.managementUrl}/metrics`)).text();
      const failures = Number(/^revgw_client_auth_failures_total\{method="none"\} (\d+)/m.exec(text)?.[1] ?? 0);
      // 120 requests sent; at most the loopback budget and the shared one reached authentication.
      expect(failures).toBeLessThanOrEqual(10);
    });
  });

  describe('shared by two replicas through Redis', () => {
    let a: TestGateway;
    let b: TestGateway;
    beforeAll(async () => {
      // A fresh issuer namespaces this test's counters in the shared Redis.
      const env = { REDIS_URL, THROTTLE_IP_LIMIT: '4', ISSUER: `http://throttle-${randomUUID()}.test` };
      a = await startTestGateway(env);
      b = await startTestGateway(env);
      await withPublicClient(a);
      await withPublicClient(b);
    });
    afterAll(async () => {
      await a.stop();
      await b.stop();
    });

    it('spends one budget across both instances', async () => {
      const revoke = (gw: TestGateway) => gw.post('/token/revoke', { token: 'x', client_id: 'public-app' });
      expect([(await revoke(a)).status, (await revoke(b)).status, (await revoke(a)).status, (await revoke(b)).status]).toEqual([200, 200, 200, 200]);
      expect((await revoke(a)).status).toBe(429);
      expect((await revoke(b)).status).toBe(429);
    });
  });

  describe.each([
    ['in process', {}],
    ['in Redis', { REDIS_URL }],
  ])('window semantics %s', (_name, backend: Record<string, string>) => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ ...backend, THROTTLE_IP_LIMIT: '2', THROTTLE_TTL_MS: '2000', ISSUER: `http://window-${randomUUID()}.test` });
      await withPublicClient(gw);
    });
    afterAll(() => gw.stop());

    it('Retry-After is the time until the window frees, and waiting it out works', async () => {
      const revoke = () => gw.post('/token/revoke', { token: 'x', client_id: 'public-app' });
      expect((await revoke()).status).toBe(200);
      expect((await revoke()).status).toBe(200);
      const refused = await revoke();
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
      expect((await revoke()).status).toBe(200);
    });
  });

  describe('Redis that accepts connections and never answers', () => {
    let gw: TestGateway;
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = new TcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
      await proxy.start();
      gw = await startTestGateway({ REDIS_URL: proxy.route(REDIS_URL), THROTTLE_IP_LIMIT: '1', ISSUER: `http://stall-${randomUUID()}.test` });
      await withPublicClient(gw);
      proxy.blackhole();
    });
    afterAll(async () => {
      await gw.stop();
      await proxy.stop();
    });

    it('fails open within the command timeout: no request waits on a stalled Redis', async () => {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        expect((await gw.post('/token/revoke', { token: 'x', client_id: 'public-app' })).status).toBe(200);
        expect(Date.now() - started).toBeLessThan(1500);
      }
    });
  });

  describe('Redis unreachable', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      const port = await closedPort();
      gw = await startTestGateway({ REDIS_URL: `redis://127.0.0.1:${port}`, THROTTLE_IP_LIMIT: '1' });
      await withPublicClient(gw);
    });
    afterAll(() => gw.stop());

    it('fails open: revocations go on while the counters are away', async () => {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect((await gw.post('/token/revoke', { token: 'x', client_id: 'public-app' })).status).toBe(200);
        expect(Date.now() - started).toBeLessThan(2000);
      }
    });
  });
});
