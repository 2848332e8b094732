import { randomBytes, randomUUID } from 'node:crypto';
import { FakeUpstream, type SeenRequest, type UpstreamBehaviour } from '../support/fake-upstream';
import { basic, eventually, IN_A_YEAR, startTestGateway, type TestGateway } from '../support/gateway';

const TOKENS = Number(process.env.CHAOS_TOKENS ?? 300);
const WORKERS = 20;

/** What the upstream may do to a delivery, and what the caller must then get (CONTRACT §6). */
const CHAOS: Array<{ behaviour: UpstreamBehaviour; caller: 200 | 502 | 504; weight: number }> = [
  { behaviour: { kind: 'answer', status: 200 }, caller: 200, weight: 40 },
  { behaviour: { kind: 'answer', status: 503 }, caller: 504, weight: 10 },
  { behaviour: { kind: 'answer', status: 429 }, caller: 504, weight: 10 },
  { behaviour: { kind: 'answer', status: 503, delayMs: 900 }, caller: 504, weight: 10 }, // past UPSTREAM_TIMEOUT_MS
  { behaviour: { kind: 'answer', status: 500 }, caller: 502, weight: 10 },
  { behaviour: { kind: 'answer', status: 400 }, caller: 502, weight: 5 },
  { behaviour: { kind: 'reset' }, caller: 502, weight: 10 },
  { behaviour: { kind: 'answer', status: 200, body: '<html>', contentType: 'text/html' }, caller: 502, weight: 5 },
];

/**
 * The reliability issue, upstream chaos: under load, every delivery meets a random upstream
 * behaviour. Each caller gets exactly the status its own delivery maps to (502 when the circuit
 * was open and nothing was sent); once the upstream heals, every outbox row is delivered, each
 * exactly once, and no row is ever delivered twice at the same time.
 */
describe('upstream chaos under load', () => {
  const upstream = new FakeUpstream();
  const chosen = new Map<SeenRequest, (typeof CHAOS)[number]>();
  let gw: TestGateway;

  beforeAll(async () => {
    await upstream.up();
    gw = await startTestGateway({
      UPSTREAM_REVOCATION_URL: upstream.url,
      UPSTREAM_CLIENT_ID: 'gateway',
      UPSTREAM_CLIENT_SECRET: 'gateway-secret',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      UPSTREAM_TIMEOUT_MS: '300',
      UPSTREAM_BREAKER_FAILURES: '5',
      UPSTREAM_BREAKER_RESET_MS: '300',
      UPSTREAM_OUTBOX_MAX_ATTEMPTS: '1000',
      THROTTLE_IP_LIMIT: '0',
      THROTTLE_CLIENT_LIMIT: '0',
    });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.down();
  });

  it('maps every answer exactly, delivers every row once the upstream heals, never twice at once', async () => {
    const total = CHAOS.reduce((sum, c) => sum + c.weight, 0);
    upstream.behave = (seen) => {
      let roll = Math.random() * total;
      const pick = CHAOS.find((c) => (roll -= c.weight) < 0) ?? CHAOS[0];
      chosen.set(seen, pick);
      return pick.behaviour;
    };
    const tokens = Array.from({ length: TOKENS }, () => `chaos-${randomUUID()}`);
    await gw.admin('POST', '/admin/tokens', { tokens: tokens.map((token) => ({ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR })) });

    const answers = new Map<string, { status: number; at: number }>();
    let next = 0;
    const worker = async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const response = await gw.post('/token/revoke', { token }, { authorization: basic('tpp', 'tpp-secret-value'), 'x-fapi-interaction-id': randomUUID() });
        await response.arrayBuffer();
        answers.set(token, { status: response.status, at: Date.now() });
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));

    // The caller's status is the mapping of its own (first) delivery; none sent: the circuit was open.
    const mismatches = tokens.flatMap((token) => {
      const answer = answers.get(token)!;
      const first = upstream.requestsFor(token)[0];
      const expected = first && first.receivedAt <= answer.at ? chosen.get(first)!.caller : 502;
      return answer.status === expected ? [] : [{ token, status: answer.status, expected }];
    });
    const statuses = [...answers.values()].reduce<Record<number, number>>((count, a) => ({ ...count, [a.status]: (count[a.status] ?? 0) + 1 }), {});

    // Heal, and let the worker drain the outbox.
    upstream.behave = undefined;
    upstream.behaviour = { kind: 'answer', status: 200 };
    const healed = Date.now();
    await eventually(async () => Number((await gw.database.dataSource.query('SELECT count(*)::int AS n FROM upstream_outbox'))[0].n) === 0, 60_000, 'an empty outbox');
    const drainedMs = Date.now() - healed;

    const deliveredOnce = tokens.filter((token) => upstream.requestsFor(token).filter((seen) => (chosen.get(seen)?.caller ?? 200) === 200).length === 1);
    const overlapping = tokens.filter((token) => {
      const seen = upstream.requestsFor(token);
      return seen.some((request, i) => i > 0 && request.receivedAt < (seen[i - 1].closedAt ?? Infinity));
    });
    const report = { tokens: TOKENS, deliveries: upstream.seen.length, statuses, mismatches: mismatches.length, drained_ms: drainedMs, delivered_once: deliveredOnce.length, overlapping: overlapping.length };
    if (process.env.RELIABILITY_REPORT) console.log(`upstream chaos: ${JSON.stringify(report)}`);

    expect(mismatches).toEqual([]);
    expect(Object.keys(statuses).sort()).toEqual(['200', '502', '504']); // the chaos did reach every mapping
    expect(deliveredOnce).toHaveLength(TOKENS);
    expect(overlapping).toEqual([]);
  }, 120_000);
});
