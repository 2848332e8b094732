import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LOOK_EVERY_MS } from '../../src/events/push-delivery';
import { EXPAND_CHUNK } from '../../src/events/set-expander';
import { SetStore } from '../../src/events/set-store';
import { IN_A_YEAR, newToken, startReplicas, startTestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { ISSUER } from '../support/keys';
import { sample, scrape } from '../support/metrics';
import { SetReceiver } from '../support/set-receiver';

const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** docs/api.md §12.4, §12.5: replicas share the SETs of one database (a server: the embedded one has one process). */
(process.env.DATABASE_URL ? describe : describe.skip)('Shared Signals across replicas', () => {
  it('two replicas drain one push stream: every SET delivered, none twice at the same time, both replicas delivering', async () => {
    const receiver = await SetReceiver.start();
    // 20 ms an answer: 2,000 SETs keep one replica's 64 in flight busy for over half a second, so
    // the other has time to claim its share even on a machine fast enough to drain it alone sooner.
    receiver.behave = () => ({ status: 202, delayMs: 20 });
    const replicas = await startReplicas({ TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    try {
      const { a, b } = replicas;
      await a.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      expect(
        (await a.admin('POST', '/admin/ssf/streams', { aud: 'rs', delivery: { method: PUSH, endpoint_url: receiver.url }, events_requested: [TOKEN_REVOKED] }))
          .status,
      ).toBe(201);
      // Both replicas start a pump for the new stream by their next look (each looks every
      // LOOK_EVERY_MS): only then are both kicked by the revocation's notification.
      await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS * 1.5));
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

(process.env.DATABASE_URL ? describe : describe.skip)('Shared Signals: a bulk revocation larger than one expansion chunk', () => {
  it('revokes at once and then makes one token-revoked per token and one session-revoked per grant, every one, none twice', async () => {
    const gw = await startTestGateway({});
    try {
      await gw.admin('PUT', '/admin/clients/big', { auth_method: 'client_secret_basic', secret: 'big-secret-value' });
      const created = await gw.admin('POST', '/admin/ssf/streams', {
        aud: 'rs',
        delivery: { method: POLL },
        events_requested: [TOKEN_REVOKED, SESSION_REVOKED],
      });
      const count = EXPAND_CHUNK + 2500;
      await gw.database.dataSource.query(
        `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, subject, expires_at)
         SELECT 'default', sha256(convert_to('big.' || i, 'UTF8')), 'access_token', 'big', 'g' || (i % ($1::int / 2)), 'psu-' || i, now() + interval '1 day'
           FROM generate_series(1, $1::int) AS i`,
        [count],
      );
      expect((await gw.admin('POST', '/admin/revocations', { client_id: 'big' })).body).toEqual({ revoked: count });
      const [{ bundles }] = await gw.database.dataSource.query(`SELECT count(*)::int AS bundles FROM ssf_set_bundles`);
      expect(bundles).toBeLessThanOrEqual(1);
      await eventually(async () => (await gw.database.dataSource.query(`SELECT count(*)::int AS n FROM ssf_set_bundles`))[0].n === 0, 30_000, 'expanded');
      const rows = await gw.database.dataSource.query(
        `SELECT event_type, count(*)::int AS n, count(DISTINCT sub_id)::int AS distinct_subjects, count(DISTINCT jti)::int AS jtis FROM ssf_sets WHERE stream_id = $1 GROUP BY 1`,
        [created.body.stream_id],
      );
      const by = Object.fromEntries(rows.map((r: { event_type: string }) => [r.event_type, r]));
      expect(by[TOKEN_REVOKED]).toEqual({ event_type: TOKEN_REVOKED, n: count, distinct_subjects: count, jtis: count });
      expect(by[SESSION_REVOKED]).toEqual({ event_type: SESSION_REVOKED, n: count / 2, distinct_subjects: count / 2, jtis: count / 2 });
      const [sample] = await gw.database.dataSource.query(`SELECT sub_id, event FROM ssf_sets WHERE stream_id = $1 AND event_type = $2 LIMIT 1`, [
        created.body.stream_id,
        SESSION_REVOKED,
      ]);
      expect(sample.sub_id).toEqual({
        format: 'complex',
        session: { format: 'opaque', id: expect.stringMatching(/^g\d+$/) },
        user: { format: 'iss_sub', iss: ISSUER, sub: expect.stringMatching(/^psu-/) },
      });
      expect(sample.event).toMatchObject({ initiating_entity: 'admin' });
    } finally {
      await gw.stop();
    }
  }, 120_000);
});

(process.env.DATABASE_URL ? describe : describe.skip)('Shared Signals: a stream disabled while a revocation waits', () => {
  it('the revocation that saw it enabled and committed after the disable leaves nothing to deliver, even once it is enabled again', async () => {
    const gw = await startTestGateway({ DATABASE_LOCK_TIMEOUT_MS: '4000' });
    const holder = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
    await holder.connect();
    try {
      await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      const created = await gw.admin('POST', '/admin/ssf/streams', { aud: 'rs', delivery: { method: POLL }, events_requested: [TOKEN_REVOKED] });
      const token = newToken('at');
      await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE`, [token]);
      const revoking = fetch(`${gw.publicUrl}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('tpp:tpp-secret-value').toString('base64')}` },
        body: new URLSearchParams({ token }).toString(),
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await gw.admin('POST', `/admin/ssf/streams/${created.body.stream_id}/status`, { status: 'disabled' })).status).toBe(200);
      await holder.query('COMMIT');
      expect((await revoking).status).toBe(200);
      // Written by the revocation all the same: its snapshot saw the stream enabled.
      const [{ n }] = await gw.database.dataSource.query(`SELECT count(*)::int AS n FROM ssf_sets WHERE stream_id = $1`, [created.body.stream_id]);
      expect(n).toBe(1);
      await gw.admin('POST', `/admin/ssf/streams/${created.body.stream_id}/status`, { status: 'enabled' });
      const answer = await fetch(`${gw.publicUrl}/ssf/poll/${created.body.stream_id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.body.poll_token}` },
        body: JSON.stringify({ returnImmediately: true }),
      });
      expect(await answer.json()).toEqual({ sets: {}, moreAvailable: false });
      expect(await (await fetch(`${gw.managementUrl}/metrics`)).text()).toMatch(/revgw_set_pending 0/);
      // The pruner drops it: it is of the stream's epoch before the disable.
      expect(await new SetStore(gw.database.dataSource).pruneStale(100)).toBe(1);
    } finally {
      await holder.end();
      await gw.stop();
    }
  });
});
