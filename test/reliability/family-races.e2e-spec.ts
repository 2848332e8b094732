import { Client } from 'pg';
import { hashToken } from '../../src/revocation/token-hash';
import { basic, deadlocks, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { assertionForm, clientAssertion, signingKey, type SigningKey } from '../support/keys';

/**
 * The ordinary race between an authorization server registering a freshly issued token and a TPP
 * revoking the grant it belongs to: whichever commits first, the new token must not outlive the
 * revocation when both answer success. (A registration reads its parent and consent; a revocation
 * chooses its victims from its snapshot: without serialising on the family, a token registered
 * while its refresh token or consent was being revoked stayed active.)
 *
 * Pairs run all at once with seeded jitter; RACE_PAIRS and RACE_SEED size and vary the run
 * (`npm run reliability` runs it longer). The embedded database has one connection, so there the
 * pairs serialise and the test shows only that the outcomes are right.
 */
const PAIRS = Number(process.env.RACE_PAIRS ?? (process.env.DATABASE_URL ? 150 : 30));
const SEED = Number(process.env.RACE_SEED ?? 20261202);
/** Pairs in flight at once. */
const WAVE = 25;

/** mulberry32: a small seeded generator, so a failing interleaving can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Family {
  /** Registered before the race (the grant's existing tokens). */
  readonly existing: Array<Record<string, unknown>>;
  /** Registered during the race: must end revoked when both calls succeed. */
  readonly fresh: Record<string, unknown>;
}

describe(`registration racing revocation of its family (${PAIRS} pairs, seed ${SEED})`, () => {
  let gw: TestGateway;
  let key: SigningKey;
  const random = generator(SEED);
  const asTpp = { authorization: basic('tpp', 'tpp-secret-value') };
  const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));

  beforeAll(async () => {
    key = await signingKey('ES256');
    gw = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0' });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    await gw.admin('PUT', '/admin/clients/adr', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  afterAll(() => gw.stop());

  const token = (clientId: string, fields: Record<string, unknown>) => ({
    token: newToken(),
    token_type: 'access_token',
    client_id: clientId,
    grant_id: 'grant',
    expires_at: IN_A_YEAR,
    ...fields,
  });

  const filler = (clientId: string) => Array.from({ length: 40 }, () => token(clientId, {}));

  /**
   * Registers each family's existing tokens, then for every family at once: the fresh token's
   * registration and the revocation, each after a random 0-3 ms. Returns the fresh tokens that
   * are still active although both calls answered success.
   */
  async function race(families: Family[], revoke: (family: Family) => Promise<number>, expectedStatus: number) {
    const existing = families.flatMap((f) => f.existing);
    for (let i = 0; i < existing.length; i += 5000) {
      expect((await gw.admin('POST', '/admin/tokens', { tokens: existing.slice(i, i + 5000) })).status).toBe(201);
    }
    const before = await deadlocks(gw);
    const started = Date.now();
    const outcomes: Array<{ family: Family; registered: number; revoked: number }> = [];
    // In waves that the pool can serve: a storm beyond it measures the pool (503s), not the race.
    for (let wave = 0; wave < families.length; wave += WAVE) {
      outcomes.push(
        ...(await Promise.all(
          families.slice(wave, wave + WAVE).map(async (family) => {
            const [registered, revoked] = await Promise.all([
              // Unrelated tokens in the same call widen the registration's window between reading
              // the family and committing, where the lost revocations happened.
              jitter().then(() => gw.admin('POST', '/admin/tokens', { tokens: [family.fresh, ...filler(String(family.fresh.client_id))] })),
              jitter().then(() => revoke(family)),
            ]);
            return { family, registered: registered.status, revoked };
          }),
        )),
      );
    }
    // Either call may be refused for a moment under contention (503, to be retried); never wrongly.
    for (const { registered, revoked } of outcomes) {
      expect([201, 503]).toContain(registered);
      expect([expectedStatus, 503]).toContain(revoked);
    }
    const both = outcomes.filter((o) => o.registered === 201 && o.revoked === expectedStatus);
    const histogram: Record<string, number> = {};
    for (const { registered, revoked } of outcomes) histogram[`${registered}/${revoked}`] = (histogram[`${registered}/${revoked}`] ?? 0) + 1;
    expect(both.length > PAIRS * 0.9 ? 'most pairs both succeeded' : histogram).toBe('most pairs both succeeded');
    const survivors: string[] = [];
    for (const { family } of both) {
      const status = await gw.admin('POST', '/admin/tokens/status', { token: family.fresh.token });
      if (status.body.active) survivors.push(String(family.fresh.token));
    }
    if (process.env.RELIABILITY_REPORT) {
      const name = expect.getState().currentTestName?.split(' › ').at(-1);
      console.log(
        `family race: ${JSON.stringify({ name, pairs: families.length, seed: SEED, outcomes: histogram, survivors: survivors.length, ms: Date.now() - started })}`,
      );
    }
    expect(await deadlocks(gw)).toBe(before);
    return survivors;
  }

  it('a child access token registered while its refresh token is revoked (rfc7009, RELATED_TOKENS)', async () => {
    const families = Array.from({ length: PAIRS }, () => {
      const rt = token('tpp', { token_type: 'refresh_token' });
      return { existing: [rt], fresh: token('tpp', { refresh_token: rt.token }) };
    });
    const survivors = await race(families, async (f) => (await gw.post('/token/revoke', { token: String(f.existing[0].token) }, asTpp)).status, 200);
    expect(survivors).toEqual([]);
  });

  it('a token registered under a consent while the consent is revoked (oam, RELATED_CONSENT)', async () => {
    const families = Array.from({ length: PAIRS }, (_, i) => {
      const consent = `oam-consent-${i}-${SEED}`;
      return { existing: [token('tpp', { consent_id: consent })], fresh: token('tpp', { consent_id: consent }) };
    });
    const survivors = await race(
      families,
      async (f) => (await gw.post('/oauth2/rest/token/revoke', { token: String(f.existing[0].token), revocation_level: 'RELATED_CONSENT' }, asTpp)).status,
      200,
    );
    expect(survivors).toEqual([]);
  });

  it('a child of a consent’s refresh token registered while the consent is revoked (REVOCATION_DEFAULT_LEVEL-style, via oam)', async () => {
    const families = Array.from({ length: PAIRS }, (_, i) => {
      const rt = token('tpp', { token_type: 'refresh_token', consent_id: `rt-consent-${i}-${SEED}` });
      const at = token('tpp', { refresh_token: rt.token });
      return { existing: [rt, at], fresh: token('tpp', { refresh_token: rt.token }) };
    });
    const survivors = await race(
      families,
      async (f) => (await gw.post('/oauth2/rest/token/revoke', { token: String(f.existing[1].token), revocation_level: 'RELATED_CONSENT' }, asTpp)).status,
      200,
    );
    expect(survivors).toEqual([]);
  });

  it('a token registered under a consent while the admin API withdraws the consent', async () => {
    const families = Array.from({ length: PAIRS }, (_, i) => {
      const consent = `admin-consent-${i}-${SEED}`;
      return { existing: [token('tpp', { consent_id: consent })], fresh: token('tpp', { consent_id: consent }) };
    });
    const survivors = await race(families, async (f) => (await gw.admin('POST', '/admin/revocations', { consent_id: f.existing[0].consent_id })).status, 200);
    expect(survivors).toEqual([]);
  });

  it('a child access token registered while the admin API offboards the client', async () => {
    // One client per family: a bulk revocation by client_id covers that client's whole family.
    const families = await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => {
        const clientId = `offboarded-${i}`;
        await gw.admin('PUT', `/admin/clients/${clientId}`, { auth_method: 'none' });
        const rt = token(clientId, { token_type: 'refresh_token' });
        return { existing: [rt], fresh: token(clientId, { refresh_token: rt.token }) };
      }),
    );
    const survivors = await race(families, async (f) => (await gw.admin('POST', '/admin/revocations', { client_id: f.existing[0].client_id })).status, 200);
    expect(survivors).toEqual([]);
  });

  it('a token registered under an arrangement while the data recipient revokes it (cdr)', async () => {
    const families = Array.from({ length: PAIRS }, (_, i) => {
      const consent = `arrangement-${i}-${SEED}`;
      return { existing: [token('adr', { consent_id: consent })], fresh: token('adr', { consent_id: consent }) };
    });
    const survivors = await race(
      families,
      async (f) => {
        const assertion = await clientAssertion(key, 'adr', { aud: 'http://localhost:8080/arrangements/revoke' });
        return (await gw.post('/arrangements/revoke', assertionForm(assertion, { cdr_arrangement_id: String(f.existing[0].consent_id) }))).status;
      },
      204,
    );
    expect(survivors).toEqual([]);
  });

  /**
   * The lost interleaving, made to happen every time (PostgreSQL: it takes a second session). A
   * peer transaction inserts a token and holds it uncommitted; the registration names that token
   * too, so once it has read (and, now, locked) the family it waits on the peer's insert. The
   * revocation runs meanwhile; then the peer rolls back and both finish.
   */
  (process.env.DATABASE_URL ? describe : describe.skip)('the interleaving that lost revocations, forced', () => {
    let peer: Client;

    beforeAll(async () => {
      peer = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
      await peer.connect();
    });
    afterAll(() => peer.end());

    // Read by the peer inside its transaction, pg_stat_activity would stay the snapshot of its
    // first read: each count clears it first.
    const waiting = async () => {
      await peer.query('SELECT pg_stat_clear_snapshot()');
      return (await peer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0]
        .n as number;
    };

    async function interleave(existing: Array<Record<string, unknown>>, fresh: Record<string, unknown>, revoke: () => Promise<number>) {
      expect((await gw.admin('POST', '/admin/tokens', { tokens: existing })).status).toBe(201);
      const held = token(String(fresh.client_id), {});
      await peer.query('BEGIN');
      await peer.query(
        `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at) VALUES ('default', $1, 'access_token', $2, 'g', now() + interval '1 day')`,
        [hashToken(String(held.token)), fresh.client_id],
      );
      const registration = gw.admin('POST', '/admin/tokens', { tokens: [fresh, held] });
      await eventually(async () => (await waiting()) > 0, 5000, 'the registration waiting on the held insert');
      let revoked: number | undefined;
      const revocation = revoke().then((status) => (revoked = status));
      // The revocation either finishes (it did not serialise on the family) or waits on it.
      await eventually(async () => revoked !== undefined || (await waiting()) > 1, 5000, 'the revocation done or waiting');
      await peer.query('ROLLBACK');
      const [registered] = await Promise.all([registration, revocation]);
      expect(registered.status).toBe(201);
      return { revoked, active: (await gw.admin('POST', '/admin/tokens/status', { token: fresh.token })).body.active as boolean };
    }

    it('RELATED_TOKENS of a refresh token: its new child is revoked', async () => {
      const rt = token('tpp', { token_type: 'refresh_token' });
      const outcome = await interleave(
        [rt],
        token('tpp', { refresh_token: rt.token }),
        async () => (await gw.post('/token/revoke', { token: String(rt.token) }, asTpp)).status,
      );
      expect(outcome).toEqual({ revoked: 200, active: false });
    });

    it('RELATED_CONSENT: a new token of the consent is revoked', async () => {
      const at = token('tpp', { consent_id: 'forced-consent' });
      const outcome = await interleave(
        [at],
        token('tpp', { consent_id: 'forced-consent' }),
        async () => (await gw.post('/oauth2/rest/token/revoke', { token: String(at.token), revocation_level: 'RELATED_CONSENT' }, asTpp)).status,
      );
      expect(outcome).toEqual({ revoked: 200, active: false });
    });

    it('admin withdrawal of a consent: a new token of the consent is revoked', async () => {
      const at = token('tpp', { consent_id: 'forced-admin-consent' });
      const outcome = await interleave(
        [at],
        token('tpp', { consent_id: 'forced-admin-consent' }),
        async () => (await gw.admin('POST', '/admin/revocations', { consent_id: 'forced-admin-consent' })).status,
      );
      expect(outcome).toEqual({ revoked: 200, active: false });
    });

    it('admin offboarding of a client: a new child of its refresh token is revoked', async () => {
      await gw.admin('PUT', '/admin/clients/forced-offboarded', { auth_method: 'none' });
      const rt = token('forced-offboarded', { token_type: 'refresh_token' });
      const outcome = await interleave(
        [rt],
        token('forced-offboarded', { refresh_token: rt.token }),
        async () => (await gw.admin('POST', '/admin/revocations', { client_id: 'forced-offboarded' })).status,
      );
      expect(outcome).toEqual({ revoked: 200, active: false });
    });

    it('cdr arrangement revocation: a new token of the arrangement is revoked', async () => {
      const at = token('adr', { consent_id: 'forced-arrangement' });
      const outcome = await interleave([at], token('adr', { consent_id: 'forced-arrangement' }), async () => {
        const assertion = await clientAssertion(key, 'adr', { aud: 'http://localhost:8080/arrangements/revoke' });
        return (await gw.post('/arrangements/revoke', assertionForm(assertion, { cdr_arrangement_id: 'forced-arrangement' }))).status;
      });
      expect(outcome).toEqual({ revoked: 204, active: false });
    });

    it('a consent-level request whose token was registered between the consent locks and the revocation: its consent is locked too', async () => {
      const waitingOn = (count: number, fragment = '') =>
        eventually(
          async () => {
            await peer.query('SELECT pg_stat_clear_snapshot()');
            const { rows } = await peer.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
              [`%${fragment}%`],
            );
            return rows[0].n >= count;
          },
          5000,
          `${count} statements waiting`,
        );
      const q = token('tpp', {});
      const t1 = token('tpp', { consent_id: 'batch-c1' });
      const t = token('tpp', { consent_id: 'batch-c' });
      const t2 = token('tpp', { consent_id: 'batch-c' });
      const n = token('tpp', {});
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [q, t1] })).status).toBe(201);
      const [p1, p2] = [
        new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url }),
        new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url }),
      ];
      await p1.connect();
      await p2.connect();
      try {
        // Every revocation slot busy: NONE revocations of q wait on the peer's lock of it.
        await peer.query('BEGIN');
        await peer.query('SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(String(q.token))]);
        const blockers = Array.from({ length: 5 }, () => gw.post('/token/revoke', { token: String(q.token) }, asTpp));
        await waitingOn(5);
        // p1 holds consent c1, so the batch's consent locks wait on it.
        await p1.query('BEGIN');
        await p1.query(`SELECT 1 FROM consents WHERE consent_id = 'batch-c1' FOR UPDATE`);
        const r1 = gw.post('/oauth2/rest/token/revoke', { token: String(t1.token), revocation_level: 'RELATED_CONSENT' }, asTpp);
        const r = gw.post('/oauth2/rest/token/revoke', { token: String(t.token), revocation_level: 'RELATED_CONSENT' }, asTpp);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await peer.query('ROLLBACK');
        await Promise.all(blockers);
        await waitingOn(1, 'FOR UPDATE OF k');
        // t is registered now (between the two statements of the batch), and t2's registration
        // holds consent c while it waits on n, which p2 inserted.
        expect((await gw.admin('POST', '/admin/tokens', { tokens: [t] })).status).toBe(201);
        await p2.query('BEGIN');
        await p2.query(
          `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at) VALUES ('default', $1, 'access_token', 'tpp', 'g', now() + interval '1 day')`,
          [hashToken(String(n.token))],
        );
        const registration = gw.admin('POST', '/admin/tokens', { tokens: [t2, n] });
        await waitingOn(2);
        await p1.query('ROLLBACK');
        await new Promise((resolve) => setTimeout(resolve, 300));
        await p2.query('ROLLBACK');
        expect((await registration).status).toBe(201);
        expect((await r1).status).toBe(200);
        expect((await r).status).toBe(200);
        for (const fresh of [t, t2]) expect((await gw.admin('POST', '/admin/tokens/status', { token: fresh.token })).body.active).toBe(false);
      } finally {
        await p1.end();
        await p2.end();
      }
    });

    it('a family member revoked by someone else meanwhile still tells that the family grew', async () => {
      // The victims in hash order: A1 before R, so the revocation of R waits on A1 (held by the
      // peer) before it reaches R; meanwhile A2 is registered under R and R is revoked alone.
      let rt: Record<string, unknown>;
      let a1: Record<string, unknown>;
      do {
        rt = token('tpp', { token_type: 'refresh_token' });
        a1 = token('tpp', { refresh_token: undefined });
      } while (Buffer.compare(hashToken(String(a1.token)), hashToken(String(rt.token))) >= 0);
      a1.refresh_token = rt.token;
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [rt, a1] })).status).toBe(201);
      await peer.query('BEGIN');
      await peer.query('SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(String(a1.token))]);
      let revoked: number | undefined;
      const revocation = gw.post('/token/revoke', { token: String(rt.token) }, asTpp).then((r) => (revoked = r.status));
      await eventually(async () => (await waiting()) > 0, 5000, 'the revocation waiting on A1');
      const a2 = token('tpp', { refresh_token: rt.token });
      expect((await gw.admin('POST', '/admin/tokens', { tokens: [a2] })).status).toBe(201);
      expect((await gw.post('/oauth2/rest/token/revoke', { token: String(rt.token), revocation_level: 'NONE' }, asTpp)).status).toBe(200);
      await peer.query('COMMIT');
      await revocation;
      expect(revoked).toBe(200);
      expect((await gw.admin('POST', '/admin/tokens/status', { token: a2.token })).body.active).toBe(false);
    });

    it('a parent named in the call and stored by another call meanwhile: checked, and its revocation reaches the child', async () => {
      const rt = token('tpp', { token_type: 'refresh_token' });
      const child = token('tpp', { refresh_token: rt.token });
      const held = token('tpp', {});
      const other = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
      await other.connect();
      try {
        // `other` stores R (not yet committed); the peer holds an unrelated token of the call.
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at) VALUES ('default', $1, 'refresh_token', 'tpp', 'g', now() + interval '1 day')`,
          [hashToken(String(rt.token))],
        );
        await peer.query('BEGIN');
        await peer.query(
          `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at) VALUES ('default', $1, 'access_token', 'tpp', 'g', now() + interval '1 day')`,
          [hashToken(String(held.token))],
        );
        const registration = gw.admin('POST', '/admin/tokens', { tokens: [rt, child, held] });
        await eventually(async () => (await waiting()) > 0, 5000, 'the registration waiting');
        await other.query('COMMIT');
        // R is stored now; it is revoked while the registration still waits on the held token.
        expect((await gw.post('/token/revoke', { token: String(rt.token) }, asTpp)).status).toBe(200);
        await peer.query('ROLLBACK');
        expect((await registration).status).toBe(201);
        expect((await gw.admin('POST', '/admin/tokens/status', { token: child.token })).body.active).toBe(false);
      } finally {
        await other.end();
      }
    });

    it('a parent named in the call and stored meanwhile for another client: 400, nothing stored', async () => {
      await gw.admin('PUT', '/admin/clients/tpp2', { auth_method: 'none' });
      const rt = token('tpp', { token_type: 'refresh_token' });
      const child = token('tpp', { refresh_token: rt.token });
      await peer.query('BEGIN');
      await peer.query(
        `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at) VALUES ('default', $1, 'refresh_token', 'tpp2', 'g', now() + interval '1 day')`,
        [hashToken(String(rt.token))],
      );
      const registration = gw.admin('POST', '/admin/tokens', { tokens: [rt, child] });
      await eventually(async () => (await waiting()) > 0, 5000, 'the registration waiting');
      await peer.query('COMMIT');
      const answer = await registration;
      expect(answer.status).toBe(400);
      expect(answer.body.error_description).toBe('tokens[1].refresh_token belongs to another client');
      expect((await gw.admin('POST', '/admin/tokens/status', { token: child.token })).status).toBe(404);
    });
  });

  /**
   * A consent is withdrawn while its authorization server keeps issuing tokens under it: the
   * revocation locks the consent first, so it neither waits for a quiet moment nor gives up
   * (an optimistic check of the consent failed three times in a row under this load: 503).
   */
  it.each([
    [
      'oam RELATED_CONSENT',
      (consent: string, first: string) =>
        gw.post('/oauth2/rest/token/revoke', { token: first, revocation_level: 'RELATED_CONSENT' }, asTpp).then((r) => r.status),
      200,
    ],
    ['admin withdrawal', (consent: string) => gw.admin('POST', '/admin/revocations', { consent_id: consent }).then((r) => r.status), 200],
    [
      'cdr',
      async (consent: string) => {
        const assertion = await clientAssertion(key, 'adr', { aud: 'http://localhost:8080/arrangements/revoke' });
        return (await gw.post('/arrangements/revoke', assertionForm(assertion, { cdr_arrangement_id: consent }))).status;
      },
      204,
    ],
  ] as const)('withdraws a consent under a steady stream of registrations (%s)', async (_name, revoke, expected) => {
    const clientId = _name === 'cdr' ? 'adr' : 'tpp';
    const consent = `busy-${_name.replace(/\W/g, '')}-${SEED}`;
    const existing = Array.from({ length: 500 }, () => token(clientId, { consent_id: consent }));
    expect((await gw.admin('POST', '/admin/tokens', { tokens: existing })).status).toBe(201);
    let streaming = true;
    const registered: string[] = [];
    const stream = async () => {
      while (streaming) {
        const fresh = token(clientId, { consent_id: consent });
        if ((await gw.admin('POST', '/admin/tokens', { tokens: [fresh] })).status === 201) registered.push(String(fresh.token));
      }
    };
    const streams = [stream(), stream(), stream(), stream()];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const status = await revoke(consent, String(existing[0].token));
    const took = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
    streaming = false;
    await Promise.all(streams);
    expect(status).toBe(expected);
    expect(took).toBeLessThan(5000);
    expect(registered.length).toBeGreaterThan(0);
    // Every token of the consent is inactive: those before, those meanwhile, those after.
    for (const t of [...existing.slice(0, 20).map((e) => String(e.token)), ...registered]) {
      expect((await gw.admin('POST', '/admin/tokens/status', { token: t })).body.active).toBe(false);
    }
  });

  it('offboards a client while its refresh tokens keep getting new access tokens', async () => {
    await gw.admin('PUT', '/admin/clients/busy-client', { auth_method: 'none' });
    const rts = Array.from({ length: 2000 }, () => token('busy-client', { token_type: 'refresh_token' }));
    expect((await gw.admin('POST', '/admin/tokens', { tokens: rts })).status).toBe(201);
    let streaming = true;
    const registered: string[] = [];
    const stream = async () => {
      while (streaming) {
        const parent = rts[Math.floor(random() * rts.length)];
        const fresh = token('busy-client', { refresh_token: parent.token });
        if ((await gw.admin('POST', '/admin/tokens', { tokens: [fresh] })).status === 201) registered.push(String(fresh.token));
      }
    };
    const streams = Array.from({ length: 8 }, stream);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answer = await gw.admin('POST', '/admin/revocations', { client_id: 'busy-client' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    streaming = false;
    await Promise.all(streams);
    expect(answer.status).toBe(200);
    expect(registered.length).toBeGreaterThan(0);
    for (const t of registered) expect((await gw.admin('POST', '/admin/tokens/status', { token: t })).body.active).toBe(false);
  });

  it('registrations naming the same new tokens in any order all succeed, without deadlocks', async () => {
    const tokens = Array.from({ length: 60 }, () => token('tpp', {}));
    const before = await deadlocks(gw);
    const shuffled = Array.from({ length: 12 }, () => [...tokens].sort(() => random() - 0.5));
    const answers = await Promise.all(shuffled.map((call) => gw.admin('POST', '/admin/tokens', { tokens: call })));
    expect(answers.map((a) => a.status)).toEqual(shuffled.map(() => 201));
    expect(answers.reduce((sum, a) => sum + a.body.registered, 0)).toBe(60);
    expect(await deadlocks(gw)).toBe(before);
  });
});
