import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, type SeenRequest } from '../support/fake-upstream';
import { basic, freshDatabase, IN_A_YEAR, newToken, startReplicas, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';

const SECRET = 'tpp-secret-value';
const asTpp = { authorization: basic('tpp', SECRET) };
const KEY = randomBytes(32).toString('base64');

function upstreamEnv(upstream: FakeUpstream, extra: Record<string, string> = {}): Record<string, string> {
  return {
    UPSTREAM_REVOCATION_URL: upstream.url,
    UPSTREAM_CLIENT_ID: 'gateway-client',
    UPSTREAM_CLIENT_SECRET: 'gateway-secret',
    TOKEN_ENCRYPTION_KEY: KEY,
    UPSTREAM_TIMEOUT_MS: '400',
    ...extra,
  };
}

async function registerToken(gw: TestGateway): Promise<string> {
  if ((await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: SECRET })).status > 201) throw new Error('client');
  const token = newToken('at');
  const { status } = await gw.admin('POST', '/admin/tokens', {
    tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }],
  });
  expect(status).toBe(201);
  return token;
}

const revoke = (gw: TestGateway, token: string, interactionId: string = randomUUID()) =>
  gw.post('/token/revoke', { token }, { ...asTpp, 'x-fapi-interaction-id': interactionId });

async function metric(gw: TestGateway, series: string): Promise<number> {
  const text = await (await fetch(`${gw.managementUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

const outbox = (gw: TestGateway) =>
  gw.database.dataSource.query(`SELECT id, attempts, dead_at, last_error FROM upstream_outbox ORDER BY id`) as Promise<
    Array<{ attempts: number; dead_at: Date | null; last_error: string | null }>
  >;

/** docs/api.md §6: the circuit breaker and the outbox worker. */
describe('upstream outbox and circuit breaker', () => {
  const upstream = new FakeUpstream();
  beforeAll(() => upstream.up());
  beforeEach(() => (upstream.behaviour = { kind: 'answer', status: 200 }));
  afterAll(() => upstream.down());

  describe('circuit breaker (UPSTREAM_BREAKER_FAILURES=3, UPSTREAM_BREAKER_RESET_MS=1000)', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(upstreamEnv(upstream, { UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_RESET_MS: '1000' }));
      await registerToken(gw);
    });
    afterAll(() => gw.stop());

    it('stays closed through answers about single tokens (400, 404): a client cannot open it for everyone', async () => {
      for (const status of [400, 404, 400, 404, 400]) {
        upstream.behaviour = { kind: 'answer', status, body: '{"error":"invalid_request"}' };
        const token = newToken('odd');
        expect((await revoke(gw, token)).status).toBe(502);
        expect(upstream.requestsFor(token)).toHaveLength(1);
      }
      expect(await metric(gw, 'revgw_upstream_requests_total{outcome="circuit_open"}')).toBe(0);
    });

    it('opens after 3 consecutive failures and then answers 502 without calling the upstream', async () => {
      upstream.behaviour = { kind: 'answer', status: 500 };
      for (let i = 0; i < 3; i++) {
        const token = await registerToken(gw);
        expect((await revoke(gw, token)).status).toBe(502);
        expect(upstream.requestsFor(token)).toHaveLength(1);
      }
      const refused = await registerToken(gw);
      const response = await revoke(gw, refused);
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: 'bad_gateway', error_description: expect.any(String) });
      expect(upstream.requestsFor(refused)).toEqual([]);
      expect(await metric(gw, 'revgw_upstream_requests_total{outcome="circuit_open"}')).toBeGreaterThanOrEqual(1);
      // Still kept for later delivery.
      expect((await gw.admin('POST', '/admin/tokens/status', { token: refused })).body.active).toBe(false);
    });

    it('half-opens after the reset time, closes on a success, and the outbox then drains', async () => {
      upstream.behaviour = { kind: 'answer', status: 200 };
      const token = await registerToken(gw);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // The probe is either this request or a worker delivery; either way the circuit closes.
      await eventually(async () => (await revoke(gw, newToken('probe'))).status === 200, 5000, 'circuit closed');
      expect((await revoke(gw, token)).status).toBe(200);
      expect(upstream.requestsFor(token)).toHaveLength(1);
      await eventually(async () => (await outbox(gw)).length === 0, 10_000, 'outbox drained');
    }, 20_000);
  });

  describe('first retry within 5 s although the circuit is open (UPSTREAM_BREAKER_RESET_MS=10000)', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(upstreamEnv(upstream, { UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_RESET_MS: '10000' }));
    });
    afterAll(() => gw.stop());

    it('lets the worker retry on its backoff, and closes the circuit when one of its deliveries succeeds', async () => {
      upstream.behaviour = { kind: 'answer', status: 500 };
      const tokens = [await registerToken(gw), await registerToken(gw), await registerToken(gw)];
      const started = Date.now();
      for (const token of tokens) expect((await revoke(gw, token)).status).toBe(502);
      expect(upstream.requestsFor(tokens[2])).toEqual([]); // refused by the open circuit

      upstream.behaviour = { kind: 'answer', status: 200 };
      await eventually(async () => (await outbox(gw)).length === 0, 6000, 'outbox drained');
      for (const token of tokens) expect(upstream.requestsFor(token).at(-1)!.receivedAt - started).toBeLessThan(5000);
      // Well before the 10 s reset: the worker's success closed the circuit for callers too.
      const next = await registerToken(gw);
      expect((await revoke(gw, next)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(9000);
    }, 15_000);
  });

  describe('retries and dead letters (UPSTREAM_OUTBOX_MAX_ATTEMPTS=2)', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(upstreamEnv(upstream, { UPSTREAM_OUTBOX_MAX_ATTEMPTS: '2', UPSTREAM_BREAKER_FAILURES: '1000' }));
    });
    afterAll(() => gw.stop());

    it('retries within 5 s, then dead-letters the row after the last attempt, counts it, and stops calling', async () => {
      upstream.behaviour = { kind: 'answer', status: 500 };
      const token = await registerToken(gw);
      const started = Date.now();
      expect((await revoke(gw, token)).status).toBe(502);
      expect(await metric(gw, 'revgw_outbox_pending')).toBe(1);

      const [dead] = await eventually(
        async () => {
          const rows = await outbox(gw);
          return rows[0]?.dead_at ? rows : undefined;
        },
        8000,
        'dead letter',
      );
      const [first, second] = upstream.requestsFor(token);
      expect(second.receivedAt - first.receivedAt).toBeLessThan(5000);
      expect(second.receivedAt - started).toBeLessThan(5000);
      expect(dead.attempts).toBe(2);
      expect(dead.last_error).toBe('upstream answered 500');
      expect(await metric(gw, 'revgw_outbox_dead_letters_total')).toBe(1);
      expect(await metric(gw, 'revgw_outbox_pending')).toBe(0);
      expect(await metric(gw, 'revgw_outbox_dead')).toBe(1);
      expect(await metric(gw, 'revgw_upstream_requests_total{outcome="server_error"}')).toBe(2);

      upstream.behaviour = { kind: 'answer', status: 200 };
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(upstream.requestsFor(token)).toHaveLength(2);
    }, 15_000);
  });

  describe('shutdown', () => {
    it('lets a revocation waiting on the upstream finish, then closes promptly', async () => {
      const gw = await startTestGateway(upstreamEnv(upstream, { UPSTREAM_TIMEOUT_MS: '2000' }));
      const token = await registerToken(gw);
      upstream.behaviour = { kind: 'answer', status: 200, delayMs: 800 };
      const answer = revoke(gw, token);
      await eventually(async () => upstream.requestsFor(token).length === 1, 2000, 'delivery in flight');
      const started = Date.now();
      const stopped = gw.stop();
      // Draining: readiness answers 503 on a new connection; the request in flight still completes.
      const ready = await fetch(`${gw.managementUrl}/health/ready`, { headers: { connection: 'close' } });
      expect(ready.status).toBe(503);
      expect((await answer).status).toBe(200);
      await stopped;
      expect(Date.now() - started).toBeLessThan(3000);
    }, 15_000);
  });

  describe('durability across a restart', () => {
    it('delivers what a stopped gateway left in the outbox once a new one starts on the same database', async () => {
      const server = await freshDatabase();
      const dataDir = server ? undefined : await mkdtemp(join(tmpdir(), 'revgw-outbox-'));
      const storage: Record<string, string> = server ? { DATABASE_URL: server.url, MIGRATIONS_RUN: 'true' } : { DATA_DIR: dataDir! };
      try {
        await upstream.down();
        const first = await startTestGateway(upstreamEnv(upstream, storage));
        const token = await registerToken(first);
        // Upper case: the retry must carry the caller's spelling, not the audit column's.
        const interactionId = randomUUID().toUpperCase();
        expect((await revoke(first, token, interactionId)).status).toBe(502);
        await first.stop();

        await upstream.up();
        const second = await startTestGateway(upstreamEnv(upstream, storage));
        try {
          await eventually(async () => (await outbox(second)).length === 0, 10_000, 'outbox drained');
          const [delivered] = upstream.requestsFor(token);
          expect(delivered.headers['x-fapi-interaction-id']).toBe(interactionId);
        } finally {
          await second.stop();
        }
      } finally {
        await upstream.up();
        await server?.drop();
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  });

  const withServer = process.env.DATABASE_URL ? describe : describe.skip;
  withServer('two replicas on one database (needs DATABASE_URL)', () => {
    it('deliver every row exactly once after an outage, never two deliveries of one row at a time', async () => {
      const replicas = await startReplicas(upstreamEnv(upstream, { UPSTREAM_BREAKER_FAILURES: '1000' }));
      const { a, b } = replicas;
      try {
        await upstream.down();
        const tokens = await Promise.all(Array.from({ length: 40 }, () => registerToken(a)));
        const statuses = await Promise.all(tokens.map((token, i) => revoke(i % 2 ? a : b, token).then((r) => r.status)));
        expect(new Set(statuses)).toEqual(new Set([502]));

        // Slow answers widen every delivery, so two overlapping ones would show.
        upstream.behaviour = { kind: 'answer', status: 200, delayMs: 150 };
        await upstream.up();
        await eventually(async () => (await outbox(a)).length === 0, 20_000, 'outbox drained');
        for (const token of tokens) {
          const seen = upstream.requestsFor(token);
          expect(seen).toHaveLength(1);
          expect(overlapping(seen)).toBe(false);
        }
      } finally {
        await replicas.stop();
      }
    }, 40_000);
  });
});

function overlapping(requests: SeenRequest[]): boolean {
  const sorted = [...requests].sort((x, y) => x.receivedAt - y.receivedAt);
  return sorted.some((request, i) => i > 0 && request.receivedAt < (sorted[i - 1].answeredAt ?? Infinity));
}
