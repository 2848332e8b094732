import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { hashToken } from '../../src/revocation/token-hash';
import { assertionForm, clientAssertion, ISSUER, signingKey, type SigningKey } from '../support/keys';
import { basic, deadlocks, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';

const asA = { authorization: basic('app-a', 'app-a-secret-value') };
const POISON_IP = '203.0.113.99';

/**
 * Group commit (the performance issue): revocations waiting together share one statement. Each
 * request must still get exactly its own outcome, and a failed statement must fail all of its
 * requests and apply none of them.
 */
describe('group commit: many revocations in one statement', () => {
  let gw: TestGateway;
  let cdrKey: SigningKey;

  beforeAll(async () => {
    // A pool of 2 leaves one slot for revocations (as embedded), so concurrent requests do batch.
    gw = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0', DATABASE_POOL_SIZE: '2', DATABASE_LOCK_TIMEOUT_MS: '500' });
    await gw.admin('PUT', '/admin/clients/app-a', { auth_method: 'client_secret_basic', secret: 'app-a-secret-value' });
    await gw.admin('PUT', '/admin/clients/app-b', { auth_method: 'client_secret_basic', secret: 'app-b-secret-value' });
    cdrKey = await signingKey('ES256');
    await gw.admin('PUT', '/admin/clients/cdr-app', { auth_method: 'private_key_jwt', jwks: { keys: [cdrKey.publicJwk] } });
  });
  afterAll(() => gw.stop());

  const db = (sql: string, params: unknown[] = []) => gw.database.dataSource.query(sql, params);
  async function register(clientId: string, count: number, extra: Record<string, unknown> = {}) {
    const tokens = Array.from({ length: count }, () => newToken('at'));
    const { status } = await gw.admin('POST', '/admin/tokens', {
      tokens: tokens.map((token) => ({ token, token_type: 'access_token', client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR, ...extra })),
    });
    expect(status).toBe(201);
    return tokens;
  }
  const active = async (token: string) => (await gw.admin('POST', '/admin/tokens/status', { token })).body.active as boolean;
  const eventsFor = async (interactionId: string) => (await gw.admin('GET', `/admin/revocation-events?interaction_id=${interactionId}`)).body.events;
  /** Resolves once some statement in this test database waits for a row lock. */
  const someoneWaitsForALock = (peer: Client) =>
    eventually(
      async () => {
        const { rows } = await peer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return rows[0].n > 0;
      },
      5000,
      'a statement waiting for a row lock',
    );
  const batched = async () => {
    const text = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    return Number(/^revgw_revocation_batch_size_count (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('gives each request of a mixed batch its own answer: valid, already revoked, unknown, another client’s', async () => {
    const before = await batched();
    const mine = await register('app-a', 30);
    const theirs = await register('app-b', 10);
    const twice = new Set(mine.slice(0, 5)); // these are named by two requests in flight at once
    const requests = [
      ...mine.map((token) => ({ token, expect: 200, revoked: twice.has(token) ? null : 1 })),
      ...mine.slice(0, 5).map((token) => ({ token, expect: 200, revoked: null })),
      ...theirs.map((token) => ({ token, expect: 400, revoked: 0 })),
      ...Array.from({ length: 10 }, () => ({ token: newToken('unknown'), expect: 200, revoked: 0 })),
    ].map((request) => ({ ...request, interactionId: randomUUID() }));

    const statuses = await Promise.all(
      requests.map((r) => gw.post('/token/revoke', { token: r.token }, { ...asA, 'x-fapi-interaction-id': r.interactionId }).then((res) => res.status)),
    );
    expect(statuses).toEqual(requests.map((r) => r.expect));
    for (const token of mine) expect(await active(token)).toBe(false);
    for (const token of theirs) expect(await active(token)).toBe(true);
    // One audit row per request; a token named twice is counted once, by whichever came first.
    const events = await Promise.all(requests.map((r) => eventsFor(r.interactionId)));
    expect(events.map((e) => e.length)).toEqual(requests.map(() => 1));
    expect(events.map((e, i) => requests[i].revoked ?? e[0].revoked)).toEqual(events.map((e) => e[0].revoked));
    // A token named twice is counted once, for whichever request the database served first.
    for (const token of twice) {
      const counts = requests.flatMap((r, i) => (r.token === token ? [events[i][0].revoked] : []));
      expect(counts.sort()).toEqual([0, 1]);
    }
    expect(events.reduce((sum, e) => sum + e[0].revoked, 0)).toBe(30);
    expect(events.map((e) => e[0].outcome)).toEqual(
      requests.map((r) => (r.expect === 400 ? 'foreign' : r.token.startsWith('unknown') ? 'unknown' : 'revoked')),
    );
    expect(await batched()).toBeGreaterThan(before); // some did share a statement
  });

  it('cascades concurrently within one grant: every token revoked once, one audit row per request', async () => {
    const consent = newToken('consent');
    const rt = newToken('rt');
    const children = Array.from({ length: 20 }, () => newToken('at'));
    await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { token: rt, token_type: 'refresh_token', client_id: 'app-a', grant_id: 'g', consent_id: consent, expires_at: IN_A_YEAR },
        ...children.map((token) => ({ token, token_type: 'access_token', client_id: 'app-a', grant_id: 'g', refresh_token: rt, expires_at: IN_A_YEAR })),
      ],
    });
    const names = [rt, ...children, rt];
    const ids = names.map(() => randomUUID());
    const statuses = await Promise.all(
      names.map((token, i) => gw.post('/token/revoke', { token }, { ...asA, 'x-fapi-interaction-id': ids[i] }).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    for (const token of [rt, ...children]) expect(await active(token)).toBe(false);
    const events = await Promise.all(ids.map(eventsFor));
    expect(events.map((e) => e.length)).toEqual(ids.map(() => 1));
    expect(events.reduce((sum, e) => sum + e[0].revoked, 0)).toBe(21);
  });

  const withServer = process.env.DATABASE_URL ? it : it.skip;
  withServer('locks in one order, lone or batched: a storm over shared consents causes no deadlock (needs DATABASE_URL)', async () => {
    // The default pool: several revocation statements at once, lone and batched.
    const storm = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0' });
    try {
      await storm.admin('PUT', '/admin/clients/app-a', { auth_method: 'client_secret_basic', secret: 'app-a-secret-value' });
      const before = await deadlocks(storm);
      const grants = Array.from({ length: 60 }, () => ({
        consent: newToken('consent'),
        rt: newToken('rt'),
        ats: [newToken('at'), newToken('at'), newToken('at')],
      }));
      await storm.admin('POST', '/admin/tokens', {
        tokens: grants.flatMap((g) => [
          { token: g.rt, token_type: 'refresh_token', client_id: 'app-a', grant_id: 'g', consent_id: g.consent, expires_at: IN_A_YEAR },
          ...g.ats.map((token) => ({ token, token_type: 'access_token', client_id: 'app-a', grant_id: 'g', refresh_token: g.rt, expires_at: IN_A_YEAR })),
        ]),
      });
      // Every token of a grant in flight together, each asking for the whole consent.
      const statuses = await Promise.all(
        grants
          .flatMap((g) => [g.rt, ...g.ats])
          .map((token) => storm.post('/oauth2/rest/token/revoke', { token, revocation_level: 'RELATED_CONSENT' }, asA).then((r) => r.status)),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(await deadlocks(storm)).toBe(before);
    } finally {
      await storm.stop();
    }
  });

  withServer('a batch that waits on one request’s locked rows fails that request only (503), the rest are served (needs DATABASE_URL)', async () => {
    const [first, ...tokens] = await register('app-a', 31);
    const locked = tokens[17];
    // Another transaction (an admin bulk revocation, say) holds one token's row.
    const holder = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM tokens WHERE token_hash = ANY($1) FOR UPDATE', [[hashToken(locked), hashToken(first)]]);
      // The first request takes the one revocation slot and waits there on its locked row, so
      // all the others, the locked one among them, queue up and then go as one batch.
      const firstAnswer = gw.post('/token/revoke', { token: first }, asA);
      await someoneWaitsForALock(holder);
      const before = await batched();
      const ids = tokens.map(() => randomUUID());
      const responses = await Promise.all(tokens.map((token, i) => gw.post('/token/revoke', { token }, { ...asA, 'x-fapi-interaction-id': ids[i] })));
      expect((await firstAnswer).status).toBe(503);
      expect(await batched()).toBe(before + 1);
      expect(responses.map((r) => r.status)).toEqual(tokens.map((token) => (token === locked ? 503 : 200)));
      const refused = responses[tokens.indexOf(locked)];
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await json(refused)).toMatchObject({ error: 'temporarily_unavailable' });
      for (const [i, token] of tokens.entries()) {
        if (token === locked) continue;
        expect({ active: await active(token), events: (await eventsFor(ids[i])).length }).toEqual({ active: false, events: 1 });
      }
      await holder.query('ROLLBACK');
      // Nothing of the refused request was applied; once the rows are free, its retry succeeds.
      expect(await eventsFor(ids[tokens.indexOf(locked)])).toEqual([]);
      expect((await gw.post('/token/revoke', { token: locked }, asA)).status).toBe(200);
      expect(await active(locked)).toBe(false);
    } finally {
      await holder.end();
    }
  });

  withServer('an admin bulk revocation racing cascades over the same tokens: no deadlock, every token revoked exactly once (needs DATABASE_URL)', async () => {
    const storm = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0' });
    try {
      await storm.admin('PUT', '/admin/clients/app-a', { auth_method: 'client_secret_basic', secret: 'app-a-secret-value' });
      const subject = `psu-${randomUUID()}`;
      const grants = Array.from({ length: 40 }, () => ({
        consent: newToken('consent'),
        rt: newToken('rt'),
        ats: [newToken('at'), newToken('at'), newToken('at')],
      }));
      const all = grants.flatMap((g) => [g.rt, ...g.ats]);
      await storm.admin('POST', '/admin/tokens', {
        tokens: grants.flatMap((g) => [
          { token: g.rt, token_type: 'refresh_token', client_id: 'app-a', grant_id: 'g', consent_id: g.consent, subject, expires_at: IN_A_YEAR },
          ...g.ats.map((token) => ({
            token,
            token_type: 'access_token',
            client_id: 'app-a',
            grant_id: 'g',
            refresh_token: g.rt,
            subject,
            expires_at: IN_A_YEAR,
          })),
        ]),
      });
      const before = await deadlocks(storm);
      const ids = all.map(() => randomUUID());
      const revocations = all.map((token, i) =>
        storm
          .post('/oauth2/rest/token/revoke', { token, revocation_level: 'RELATED_CONSENT' }, { ...asA, 'x-fapi-interaction-id': ids[i] })
          .then((r) => r.status),
      );
      // Account closure for the same PSU, three times, in the middle of the storm.
      const closure = () => storm.admin('POST', '/admin/revocations', { subject });
      const bulk = [
        closure(),
        new Promise((resolve) => setTimeout(resolve, 20)).then(closure),
        new Promise((resolve) => setTimeout(resolve, 60)).then(closure),
      ];
      const statuses = await Promise.all(revocations);
      const closures = await Promise.all(bulk);
      expect(closures.map((c) => c.status)).toEqual([200, 200, 200]);
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(await deadlocks(storm)).toBe(before);
      const status = async (token: string) => (await storm.admin('POST', '/admin/tokens/status', { token })).body.active as boolean;
      for (const token of all) expect(await status(token)).toBe(false);
      // Each token was newly revoked by exactly one of them: the counts add up to the whole family.
      const events = await Promise.all(ids.map(async (id) => (await storm.admin('GET', `/admin/revocation-events?interaction_id=${id}`)).body.events));
      const byRevocations = events.reduce((sum, e) => sum + e[0].revoked, 0);
      expect(byRevocations + closures.reduce((sum, c) => sum + c.body.revoked, 0)).toBe(all.length);
    } finally {
      await storm.stop();
    }
  });

  // Every statement that revokes several tokens locks them in token-hash order, so none can
  // deadlock against another. Two tokens of one family: the one with the higher hash is stored
  // first, so a scan in storage order would lock it first; a peer locking in hash order takes
  // the lower one. While the statement waits for that lower one, it must hold nothing above it.
  type Family = { subject: string; consent: string; high: string };
  const familyRevocations: Array<[string, string, (family: Family) => Promise<{ status: number }>]> = [
    ['an admin bulk revocation', 'app-a', ({ subject }) => gw.admin('POST', '/admin/revocations', { subject })],
    [
      'a CDR arrangement revocation',
      'cdr-app',
      async ({ consent }) =>
        gw.post('/arrangements/revoke', {
          cdr_arrangement_id: consent,
          ...assertionForm(await clientAssertion(cdrKey, 'cdr-app', { aud: `${ISSUER}/arrangements/revoke` })),
        }),
    ],
    [
      'a revocation of the whole consent',
      'app-a',
      ({ high }) => gw.post('/oauth2/rest/token/revoke', { token: high, revocation_level: 'RELATED_CONSENT' }, asA),
    ],
  ];
  describe.each(familyRevocations)('%s', (_, clientId, revokeFamily) => {
    withServer('locks in token-hash order, so it cannot deadlock against revocations (needs DATABASE_URL)', async () => {
      const [low, high] = [newToken('at'), newToken('at')].sort((a, b) => Buffer.compare(hashToken(a), hashToken(b)));
      const family = { subject: `psu-${randomUUID()}`, consent: newToken('consent'), high };
      for (const token of [high, low]) {
        const registered = {
          token,
          token_type: 'access_token',
          client_id: clientId,
          grant_id: 'g',
          subject: family.subject,
          consent_id: family.consent,
          expires_at: IN_A_YEAR,
        };
        expect((await gw.admin('POST', '/admin/tokens', { tokens: [registered] })).status).toBe(201);
      }
      const peer = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
      await peer.connect();
      try {
        // As PostgreSQL would plan it on a small, analysed table: possibly a scan in storage order.
        await peer.query('ANALYZE tokens');
        await peer.query('BEGIN');
        await peer.query('SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(low)]);
        const answer = revokeFamily(family);
        await someoneWaitsForALock(peer);
        await peer.query(`SET LOCAL lock_timeout = '200ms'`);
        await peer.query('SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(high)]);
        await peer.query('ROLLBACK');
        expect([200, 204]).toContain((await answer).status);
        for (const token of [low, high]) expect(await active(token)).toBe(false);
      } finally {
        await peer.end();
      }
    });
  });

  describe('a statement that fails', () => {
    // A trigger fails the audit insert of one request, after the token updates of the statement.
    const poison = (sqlstate: string) =>
      db(`CREATE OR REPLACE FUNCTION revgw_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.psu_ip = '${POISON_IP}' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = '${sqlstate}'; END IF; RETURN NEW; END $$;
          CREATE TRIGGER revgw_test_poison BEFORE INSERT ON revocation_events FOR EACH ROW EXECUTE FUNCTION revgw_test_poison();`);
    afterEach(() => db('DROP TRIGGER IF EXISTS revgw_test_poison ON revocation_events'));

    async function storm(tokens: string[]) {
      const ids = tokens.map(() => randomUUID());
      const statuses = await Promise.all(
        tokens.map((token, i) =>
          gw
            .post(
              '/token/revoke',
              { token },
              { ...asA, 'x-fapi-interaction-id': ids[i], 'x-fapi-customer-ip-address': i === tokens.length - 1 ? POISON_IP : '198.51.100.1' },
            )
            .then((r) => r.status),
        ),
      );
      return { ids, statuses };
    }

    /** Whatever a request was told is what the database holds: 200 → revoked with its audit row, else neither. */
    async function expectAnswersMatchTheDatabase(tokens: string[], ids: string[], statuses: number[]) {
      for (const [i, token] of tokens.entries()) {
        expect({ status: statuses[i], active: await active(token), events: (await eventsFor(ids[i])).length }).toEqual(
          statuses[i] === 200 ? { status: 200, active: false, events: 1 } : { status: statuses[i], active: true, events: 0 },
        );
      }
    }

    it('when the database fails it, every request in it gets 503 and none is applied', async () => {
      await poison('53100'); // disk full: the database's failure, transient
      const tokens = await register('app-a', 30);
      const before = await batched();
      const { ids, statuses } = await storm(tokens);
      expect(await batched()).toBeGreaterThan(before);
      expect(statuses.at(-1)).toBe(503);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      await expectAnswersMatchTheDatabase(tokens, ids, statuses);
    });

    it('when one request’s data fails it, the others are retried alone and succeed; only that one fails', async () => {
      await poison('P0001'); // an error about one request, not the database's
      const tokens = await register('app-a', 30);
      const before = await batched();
      const { ids, statuses } = await storm(tokens);
      expect(await batched()).toBeGreaterThan(before);
      expect(statuses).toEqual([...tokens.slice(1).map(() => 200), 500]);
      await expectAnswersMatchTheDatabase(tokens, ids, statuses);
    });
  });
});
