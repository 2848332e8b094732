import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { assertionForm, clientAssertion, signingKey } from '../support/keys';
import { basic, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';

/** docs/api.md §2 revocation levels, through the rfc7009 route with REVOCATION_DEFAULT_LEVEL. */
describe('revocation levels', () => {
  const auth = { authorization: basic('tpp', 'tpp-secret-value') };

  async function setUp(env: Record<string, string>) {
    const gw = await startTestGateway(env);
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    return gw;
  }

  /** consent C: rt1 → at1a, at1b; rt2 → at2; loose access token `lone`; and a token of another consent. */
  async function family(gw: TestGateway) {
    const consent = newToken('consent');
    const t = {
      rt1: newToken('rt'),
      at1a: newToken('at'),
      at1b: newToken('at'),
      rt2: newToken('rt'),
      at2: newToken('at'),
      lone: newToken('at'),
      elsewhere: newToken('at'),
    };
    const base = { client_id: 'tpp', grant_id: 'g', consent_id: consent, expires_at: IN_A_YEAR };
    await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { ...base, token: t.rt1, token_type: 'refresh_token' },
        { ...base, token: t.at1a, token_type: 'access_token', refresh_token: t.rt1 },
        { ...base, token: t.at1b, token_type: 'access_token', refresh_token: t.rt1 },
        { ...base, token: t.rt2, token_type: 'refresh_token' },
        { ...base, token: t.at2, token_type: 'access_token', refresh_token: t.rt2 },
        { ...base, token: t.lone, token_type: 'access_token' },
        { ...base, consent_id: 'other-consent', token: t.elsewhere, token_type: 'access_token' },
      ],
    });
    return { consent, t };
  }

  async function activeSet(gw: TestGateway, tokens: Record<string, string>): Promise<string[]> {
    const active: string[] = [];
    for (const [name, token] of Object.entries(tokens)) {
      if ((await gw.admin('POST', '/admin/tokens/status', { token })).body.active) active.push(name);
    }
    return active;
  }

  describe('REVOCATION_DEFAULT_LEVEL=RELATED_TOKENS', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await setUp({ REVOCATION_DEFAULT_LEVEL: 'RELATED_TOKENS' })));
    afterAll(() => gw.stop());

    it('revokes an access token and its parent refresh token, not its siblings', async () => {
      const { t } = await family(gw);
      expect((await gw.post('/token/revoke', { token: t.at1a }, auth)).status).toBe(200);
      expect(await activeSet(gw, t)).toEqual(['at1b', 'rt2', 'at2', 'lone', 'elsewhere']);
    });
  });

  describe('REVOCATION_DEFAULT_LEVEL=RELATED_CONSENT', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await setUp({ REVOCATION_DEFAULT_LEVEL: 'RELATED_CONSENT' })));
    afterAll(() => gw.stop());

    it('revokes every token of the consent and marks the consent revoked', async () => {
      const { consent, t } = await family(gw);
      expect((await gw.post('/token/revoke', { token: t.at2 }, auth)).status).toBe(200);
      expect(await activeSet(gw, t)).toEqual(['elsewhere']);
      const [row] = await gw.database.dataSource.query('SELECT revoked_at FROM consents WHERE consent_id = $1', [consent]);
      expect(row.revoked_at).not.toBeNull();
    });

    it('never cascades into another client’s token, even if the database says it shares the consent', async () => {
      const { consent, t } = await family(gw);
      // A state registration refuses to create (consents belong to one client), written directly.
      await gw.admin('PUT', '/admin/clients/intruder', { auth_method: 'none' });
      await gw.database.dataSource.query(
        `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, expires_at)
         VALUES ('default', sha256('foreign-in-consent'::bytea), 'access_token', 'intruder', 'g', $1, now() + interval '1 day')`,
        [consent],
      );
      expect((await gw.post('/token/revoke', { token: t.lone }, auth)).status).toBe(200);
      expect(await activeSet(gw, { ...t, foreign: 'foreign-in-consent' })).toEqual(['elsewhere', 'foreign']);
    });

    it('treats a token without consent as RELATED_TOKENS', async () => {
      const rt = newToken('rt');
      const at = newToken('at');
      const sibling = newToken('at');
      const base = { client_id: 'tpp', grant_id: 'g2', expires_at: IN_A_YEAR };
      await gw.admin('POST', '/admin/tokens', {
        tokens: [
          { ...base, token: rt, token_type: 'refresh_token' },
          { ...base, token: at, token_type: 'access_token', refresh_token: rt },
          { ...base, token: sibling, token_type: 'access_token', refresh_token: rt },
        ],
      });
      expect((await gw.post('/token/revoke', { token: at }, auth)).status).toBe(200);
      expect(await activeSet(gw, { rt, at, sibling })).toEqual(['sibling']);
    });

    it('survives concurrent cascades over one consent: no 5xx, every token revoked, one audit row per request', async () => {
      const { t } = await family(gw);
      const ids = Object.values(t)
        .slice(0, 6)
        .flatMap((token) => [token, token]);
      const responses = await Promise.all(ids.map((token) => gw.post('/token/revoke', { token }, auth)));
      expect(responses.map((r) => r.status)).toEqual(ids.map(() => 200));
      expect(await activeSet(gw, t)).toEqual(['elsewhere']);
      const interactionIds = responses.map((r) => r.headers.get('x-fapi-interaction-id'));
      const rows = await gw.database.dataSource.query('SELECT interaction_id FROM revocation_events WHERE interaction_id = ANY($1::uuid[])', [interactionIds]);
      expect(rows).toHaveLength(ids.length);
      const [{ total }] = await gw.database.dataSource.query(
        'SELECT sum(revoked)::int AS total FROM revocation_events WHERE interaction_id = ANY($1::uuid[])',
        [interactionIds],
      );
      expect(total).toBe(6); // each of the six tokens of the consent was newly revoked exactly once
    });
  });

  /**
   * Each level includes the one below it: RELATED_CONSENT revokes everything RELATED_TOKENS does
   * (a consent's access token whose refresh token has no consent: that refresh token too, or it
   * keeps minting access tokens), and RELATED_TOKENS everything NONE does.
   */
  describe('each level includes the one below it', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await setUp({})));
    afterAll(() => gw.stop());

    /** rt0 (no consent) → atA (consent C), atB (no consent); rt1 (consent C) → atC; atD (consent C, no parent). */
    async function grant(on: TestGateway = gw) {
      const consent = `consent-${randomUUID()}`;
      const t = { rt0: newToken('rt'), atA: newToken('at'), atB: newToken('at'), rt1: newToken('rt'), atC: newToken('at'), atD: newToken('at') };
      const base = { client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR };
      const registered = await on.admin('POST', '/admin/tokens', {
        tokens: [
          { ...base, token: t.rt0, token_type: 'refresh_token' },
          { ...base, token: t.atA, token_type: 'access_token', refresh_token: t.rt0, consent_id: consent },
          { ...base, token: t.atB, token_type: 'access_token', refresh_token: t.rt0 },
          { ...base, token: t.rt1, token_type: 'refresh_token', consent_id: consent },
          { ...base, token: t.atC, token_type: 'access_token', refresh_token: t.rt1 },
          { ...base, token: t.atD, token_type: 'access_token', consent_id: consent },
        ],
      });
      expect(registered.status).toBe(201);
      return { consent, t };
    }
    const oam = (token: string, level: string) => gw.post('/oauth2/rest/token/revoke', { token, revocation_level: level }, auth);

    it('oam RELATED_CONSENT on an access token: its refresh token (without consent) too', async () => {
      const { t } = await grant();
      expect((await oam(t.atA, 'RELATED_CONSENT')).status).toBe(200);
      expect(await activeSet(gw, t)).toEqual(['atB']);
    });

    it('REVOCATION_DEFAULT_LEVEL=RELATED_CONSENT (rfc7009): the same', async () => {
      const consentDefault = await setUp({ REVOCATION_DEFAULT_LEVEL: 'RELATED_CONSENT' });
      try {
        const { t } = await grant(consentDefault);
        expect((await consentDefault.post('/token/revoke', { token: t.atA }, auth)).status).toBe(200);
        expect(await activeSet(consentDefault, t)).toEqual(['atB']);
      } finally {
        await consentDefault.stop();
      }
    });

    it('cdr: the arrangement’s tokens and the refresh tokens its access tokens came from', async () => {
      const key = await signingKey('ES256');
      await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      try {
        const { consent, t } = await grant();
        const assertion = await clientAssertion(key, 'tpp', { aud: 'http://localhost:8080/arrangements/revoke' });
        expect((await gw.post('/arrangements/revoke', assertionForm(assertion, { cdr_arrangement_id: consent }))).status).toBe(204);
        expect(await activeSet(gw, t)).toEqual(['atB']);
      } finally {
        await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      }
    });

    it('consent-level revocations still work after the pool replaced its connections (the embedded database keeps prepared statements across them)', async () => {
      const pool = (gw.database.dataSource.driver as unknown as { master: import('pg').Pool }).master;
      for (let round = 0; round < 2; round++) {
        const { t } = await grant();
        expect((await oam(t.atA, 'RELATED_CONSENT')).status).toBe(200);
        expect(await activeSet(gw, t)).toEqual(['atB']);
        // Drop every idle connection, as the pool does after idleTimeoutMillis.
        const clients = await Promise.all(Array.from({ length: pool.idleCount || 1 }, () => pool.connect()));
        for (const client of clients) client.release(true);
        // The embedded server takes a moment to let the closed connection go.
        await eventually(async () => (await fetch(`${gw.managementUrl}/health/ready`)).status === 200, 10_000, 'ready again');
      }
    });

    it('admin withdrawal of the consent: the same', async () => {
      const { consent, t } = await grant();
      expect((await gw.admin('POST', '/admin/revocations', { consent_id: consent })).body).toEqual({ revoked: 5 });
      expect(await activeSet(gw, t)).toEqual(['atB']);
    });

    it('for any grant and any of its tokens: NONE ⊆ RELATED_TOKENS ⊆ RELATED_CONSENT', async () => {
      // A grant: refresh tokens each with or without a consent (of two), access tokens each with a
      // parent or none and a consent or none, as registration allows (a child of a refresh token
      // under a consent is under that consent).
      const shape = fc.record({
        refresh: fc.array(fc.constantFrom(null, 0, 1), { minLength: 1, maxLength: 3 }),
        access: fc.array(fc.record({ parent: fc.nat(3), consent: fc.constantFrom(null, 0, 1) }), { minLength: 1, maxLength: 4 }),
      });
      const levels = ['NONE', 'RELATED_TOKENS', 'RELATED_CONSENT'];
      await fc.assert(
        fc.asyncProperty(shape, fc.nat(6), async ({ refresh, access }, pick) => {
          const size = refresh.length + access.length;
          const revokedBy: Record<string, Set<number>> = {};
          for (const level of levels) {
            const consents = [`c0-${randomUUID()}`, `c1-${randomUUID()}`];
            const values = Array.from({ length: size }, () => newToken());
            const base = { client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR };
            const tokens = [
              ...refresh.map((c, i) => ({ ...base, token: values[i], token_type: 'refresh_token', ...(c === null ? {} : { consent_id: consents[c] }) })),
              ...access.map(({ parent, consent }, j) => {
                const p = parent < refresh.length ? parent : null;
                const inherited = p === null ? null : refresh[p];
                const c = inherited ?? consent;
                return {
                  ...base,
                  token: values[refresh.length + j],
                  token_type: 'access_token',
                  ...(p === null ? {} : { refresh_token: values[p] }),
                  ...(c === null ? {} : { consent_id: consents[c] }),
                };
              }),
            ];
            expect((await gw.admin('POST', '/admin/tokens', { tokens })).status).toBe(201);
            expect((await oam(values[pick % size], level)).status).toBe(200);
            const revoked = new Set<number>();
            for (let i = 0; i < size; i++) if (!(await gw.admin('POST', '/admin/tokens/status', { token: values[i] })).body.active) revoked.add(i);
            revokedBy[level] = revoked;
          }
          const subset = (a: Set<number>, b: Set<number>) => [...a].every((i) => b.has(i));
          expect(revokedBy.NONE).toEqual(new Set([pick % size]));
          expect(subset(revokedBy.NONE, revokedBy.RELATED_TOKENS)).toBe(true);
          expect(subset(revokedBy.RELATED_TOKENS, revokedBy.RELATED_CONSENT)).toBe(true);
        }),
        { numRuns: 25, seed: 20261202 },
      );
    });
  });

  describe('PROFILES without rfc7009', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await setUp({ PROFILES: 'fapi' })));
    afterAll(() => gw.stop());

    it('answers 404 on the switched-off route', async () => {
      const response = await gw.post('/token/revoke', { token: 'x' }, auth);
      expect(response.status).toBe(404);
    });
  });
});
