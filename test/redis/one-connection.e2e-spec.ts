import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { redisClientName } from '../../src/redis/redis';
import { json, startTestGateway, type TestGateway } from '../support/gateway';
import { assertionForm, clientAssertion, signingKey } from '../support/keys';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * With REDIS_URL the process holds one Redis connection (src/redis/redis.ts), named for CLIENT
 * LIST, whatever uses it: the jti replay store, the throttling counters and readiness, on the public
 * and the management listener; it is closed on shutdown.
 */
describe('one Redis connection per process', () => {
  const issuer = `http://one-connection-${randomUUID()}.test`;
  let redis: Redis;
  let gw: TestGateway | undefined;

  /** The connections Redis sees from this process's gateway. */
  async function gatewayConnections(): Promise<string[]> {
    const list = (await redis.call('CLIENT', 'LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${redisClientName()} `));
  }

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    expect(await gatewayConnections()).toEqual([]);
    gw = await startTestGateway({ REDIS_URL, ISSUER: issuer, THROTTLE_IP_LIMIT: '4' });
  });
  afterAll(async () => {
    await gw?.stop();
    redis.disconnect();
  });

  it('is ready, refuses a replayed assertion and throttles, all through the one connection', async () => {
    const key = await signingKey('ES256');
    await gw!.admin('PUT', '/admin/clients/tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    await gw!.admin('PUT', '/admin/clients/public-app', { auth_method: 'none' });

    const ready = await fetch(`${gw!.managementUrl}/health/ready`);
    expect(await json(ready)).toEqual({ status: 'ok', details: { database: { status: 'up' }, redis: { status: 'up' } } });

    const assertion = await clientAssertion(key, 'tpp', { aud: issuer });
    expect((await gw!.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(200);
    expect((await gw!.post('/token/revoke', { token: 'x', ...assertionForm(assertion) })).status).toBe(401);
    const revoke = () => gw!.post('/token/revoke', { token: 'x', client_id: 'public-app' });
    expect([(await revoke()).status, (await revoke()).status, (await revoke()).status]).toEqual([200, 200, 429]);

    expect(await redis.keys(`revgw:throttle:revgw|${issuer}|*`)).not.toEqual([]);
    expect(
      await redis.exists(`revgw:jti:${JSON.stringify(['default', 'tpp', JSON.parse(Buffer.from(assertion.split('.')[1], 'base64url').toString()).jti])}`),
    ).toBe(1);
    expect(await gatewayConnections()).toHaveLength(1);
  });

  it('closes it on shutdown', async () => {
    await gw!.stop();
    gw = undefined;
    for (let i = 0; i < 20 && (await gatewayConnections()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await gatewayConnections()).toEqual([]);
  });
});
