import { basic, checkToken, deniedWithin, freshDatabase, IN_A_YEAR, newToken, startReplicas, startTestGateway, type TestGateway } from '../support/gateway';
import { sample, scrape } from '../support/metrics';
import { TcpProxy } from '../support/tcp-proxy';

const withServer = process.env.DATABASE_URL ? describe : describe.skip;
const TPP = { authorization: basic('tpp', 'tpp-secret-value') };

async function register(gw: TestGateway, entries: Array<Record<string, unknown>>): Promise<void> {
  const tokens = entries.map((entry) => ({ token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR, ...entry }));
  expect((await gw.admin('POST', '/admin/tokens', { tokens })).status).toBe(201);
}

const check = checkToken;

/** Replica A on the database, replica B through a proxy the test controls; A has the TPP client. */
async function proxiedReplicas(configure: (proxy: TcpProxy) => void, bEnv: Record<string, string> = {}) {
  const database = (await freshDatabase())!;
  const proxy = TcpProxy.to(database.url);
  configure(proxy);
  await proxy.start();
  const a = await startTestGateway({ DATABASE_URL: database.url, MIGRATIONS_RUN: 'true' });
  const b = await startTestGateway({ DATABASE_URL: proxy.route(database.url), ...bEnv });
  await a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  return {
    a,
    b,
    proxy,
    async stop() {
      await a.stop();
      await b.stop();
      await proxy.stop();
      await database.drop();
    },
  };
}

async function series(gw: TestGateway, name: string): Promise<number> {
  return sample(await scrape(gw.managementUrl), name);
}

/**
 * docs/api.md §11.6 on a real PostgreSQL server: replica B keeps token status in memory; every
 * revocation committed on replica A reaches it within 1 s through the change feed, whether it names
 * the token, cascades to it, or revokes hundreds at once; and B never answers from memory while it
 * cannot hear A.
 */
withServer('token status across replicas', () => {
  let replicas: Awaited<ReturnType<typeof startReplicas>>;

  beforeAll(async () => {
    replicas = await startReplicas();
    await replicas.a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    // Both feeds listen before the first check.
    for (const gw of [replicas.a, replicas.b]) {
      for (let i = 0; i < 100 && (await series(gw, 'revgw_token_status_feed_up')) !== 1; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await series(gw, 'revgw_token_status_feed_up')).toBe(1);
    }
  });
  afterAll(() => replicas.stop());

  it('B answers a known token from memory, then denies it within 1 s of its revocation on A', async () => {
    const { a, b } = replicas;
    const token = newToken();
    await register(a, [{ token }]);
    const hits = await series(b, 'revgw_token_status_lookups_total{result="hit"}');
    expect((await check(b, token)).status).toBe(200);
    expect((await check(b, token)).status).toBe(200);
    expect(await series(b, 'revgw_token_status_lookups_total{result="hit"}')).toBe(hits + 1);
    expect((await a.post('/token/revoke', { token }, TPP)).status).toBe(200);
    expect(await deniedWithin(b, token, 1000)).toBeLessThan(1000);
    // Introspection on B shares the memory, and says the same.
    await b.admin('PUT', '/admin/clients/rs', { auth_method: 'client_secret_basic', secret: 'rs-secret-value', role: 'resource_server' });
    const answer = await b.post('/token/introspect', { token }, { authorization: basic('rs', 'rs-secret-value') });
    expect(await answer.text()).toBe('{"active":false}');
  });

  it('a cascade from a refresh token revoked on A reaches the access tokens B holds', async () => {
    const { a, b } = replicas;
    const refresh = newToken();
    const access = newToken();
    await register(a, [
      { token: refresh, token_type: 'refresh_token', grant_id: 'g-cascade' },
      { token: access, refresh_token: refresh, grant_id: 'g-cascade' },
    ]);
    expect((await check(b, access)).status).toBe(200);
    expect((await a.post('/token/revoke', { token: refresh, token_type_hint: 'refresh_token' }, TPP)).status).toBe(200);
    expect(await deniedWithin(b, access, 1000)).toBeLessThan(1000);
  });

  it('a bulk revocation of 300 tokens on A (one message for the tenant) reaches every one B holds', async () => {
    const { a, b } = replicas;
    const tokens = Array.from({ length: 300 }, () => newToken());
    await register(
      a,
      tokens.map((token) => ({ token, subject: 'psu-closing' })),
    );
    for (const token of tokens.slice(0, 20)) expect((await check(b, token)).status).toBe(200);
    expect((await a.admin('POST', '/admin/revocations', { subject: 'psu-closing' })).body).toEqual({ revoked: 300 });
    for (const token of tokens.slice(0, 20)) expect(await deniedWithin(b, token, 1000)).toBeLessThan(1000);
  });
});

withServer('a replica that cannot hear the others', () => {
  let a: TestGateway;
  let b: TestGateway;
  let proxy: TcpProxy;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, proxy, stop } = await proxiedReplicas(() => undefined, { DATABASE_CONNECT_TIMEOUT_MS: '500', DATABASE_STATEMENT_TIMEOUT_MS: '1000' }));
  });
  afterAll(() => stop());

  it('never answers from memory while its feed is down; after it listens again, it has forgotten everything', async () => {
    const token = newToken();
    await register(a, [{ token }]);
    expect((await check(b, token)).status).toBe(200);
    expect((await check(b, token)).status).toBe(200);
    await proxy.refuse();
    // The feed notices within a ping; a revocation B cannot hear about happens on A.
    for (let i = 0; i < 40 && (await series(b, 'revgw_token_status_feed_up')) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await series(b, 'revgw_token_status_feed_up')).toBe(0);
    expect((await a.post('/token/revoke', { token }, TPP)).status).toBe(200);
    // B cannot read the database either: a 503, never the 200 it remembers.
    expect((await check(b, token)).status).toBe(503);
    await proxy.restore();
    for (let i = 0; i < 100 && (await series(b, 'revgw_token_status_feed_up')) !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await series(b, 'revgw_token_status_feed_up')).toBe(1);
    expect((await check(b, token)).status).toBe(401);
  });
});

/**
 * docs/operations.md "The feed needs a session": behind a pooler that forwards queries but not
 * notifications (PgBouncer in transaction mode), the feed connects and LISTENs without error, yet
 * hears nothing. It must never trust memory then: its first ping's echo never comes.
 */
withServer('a status feed that cannot hear (notifications dropped on the way)', () => {
  let a: TestGateway;
  let b: TestGateway;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, stop } = await proxiedReplicas((proxy) => (proxy.dropNotifications = true)));
  });
  afterAll(() => stop());

  it('never trusts memory: every lookup goes to the database, so a revocation on A is denied on B at once', async () => {
    const token = newToken();
    await register(a, [{ token }]);
    // Over two seconds (five ping rounds), the feed never once reports itself up.
    for (let i = 0; i < 40; i++) {
      expect(await series(b, 'revgw_token_status_feed_up')).toBe(0);
      await new Promise((r) => setTimeout(r, 50));
    }
    const hits = await series(b, 'revgw_token_status_lookups_total{result="hit"}');
    const bypassed = await series(b, 'revgw_token_status_lookups_total{result="bypass"}');
    expect((await check(b, token)).status).toBe(200);
    expect((await check(b, token)).status).toBe(200);
    expect(await series(b, 'revgw_token_status_lookups_total{result="hit"}')).toBe(hits);
    expect(await series(b, 'revgw_token_status_lookups_total{result="bypass"}')).toBe(bypassed + 2);
    expect((await a.post('/token/revoke', { token }, TPP)).status).toBe(200);
    expect((await check(b, token)).status).toBe(401);
  });
});
