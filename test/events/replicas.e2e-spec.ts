import { randomBytes, randomUUID } from 'node:crypto';
import { IN_A_YEAR, newToken, startReplicas } from '../support/gateway';
import { sample, scrape } from '../support/metrics';
import { SetReceiver } from '../support/set-receiver';

const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';

/** docs/api.md §12.4, §12.5: replicas share the SETs of one database (a server: the embedded one has one process). */
(process.env.DATABASE_URL ? describe : describe.skip)('Shared Signals across replicas', () => {
  it('two replicas drain one push stream: every SET delivered, none twice at the same time, both replicas delivering', async () => {
    const receiver = await SetReceiver.start();
    receiver.behave = () => ({ status: 202, delayMs: 5 });
    const replicas = await startReplicas({ TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    try {
      const { a, b } = replicas;
      await a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      expect(
        (await a.admin('POST', '/admin/ssf/streams', { aud: 'rs', delivery: { method: PUSH, endpoint_url: receiver.url }, events_requested: [TOKEN_REVOKED] }))
          .status,
      ).toBe(201);
      const subject = `psu-${randomUUID()}`;
      const tokens = Array.from({ length: 2000 }, () => ({
        token: newToken('at'),
        token_type: 'access_token',
        client_id: 'tpp',
        grant_id: 'g',
        subject,
        expires_at: IN_A_YEAR,
      }));
      const registered = await a.admin('POST', '/admin/tokens', { tokens });
      expect(registered.body).toEqual({ registered: 2000 });
      expect((await b.admin('POST', '/admin/revocations', { subject })).body).toEqual({ revoked: 2000 });
      await receiver.waitFor(2000, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const jtis = receiver.received.map((s) => s.claims.jti);
      expect(new Set(jtis).size).toBe(2000);
      expect(receiver.maxConcurrentPerSet).toBe(1);
      const delivered = async (gw: typeof a) => sample(await scrape(gw.managementUrl), 'revgw_set_deliveries_total{method="push",outcome="delivered"}');
      const [byA, byB] = [await delivered(a), await delivered(b)];
      expect(byA + byB).toBeGreaterThanOrEqual(2000);
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
    } finally {
      await replicas.stop();
      await receiver.stop();
    }
  }, 120_000);

  it('a poll waiting on one replica is woken by a revocation on the other', async () => {
    const replicas = await startReplicas({});
    try {
      const { a, b } = replicas;
      await a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      const created = await a.admin('POST', '/admin/ssf/streams', { aud: 'rs', delivery: { method: POLL }, events_requested: [TOKEN_REVOKED] });
      const token = newToken('at');
      await a.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
      const started = Date.now();
      const waiting = fetch(`${a.publicUrl}/ssf/poll/${created.body.stream_id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.body.poll_token}` },
        body: '{}',
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const revokedAt = Date.now();
      expect((await b.post('/token/revoke', { token }, { authorization: `Basic ${Buffer.from('tpp:tpp-secret-value').toString('base64')}` })).status).toBe(200);
      const answer = (await (await waiting).json()) as { sets: Record<string, string> };
      expect(Object.keys(answer.sets)).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      // Woken by the other replica's commit, heard through the database, well before any fallback look.
      expect(Date.now() - revokedAt).toBeLessThan(900);
    } finally {
      await replicas.stop();
    }
  });
});
