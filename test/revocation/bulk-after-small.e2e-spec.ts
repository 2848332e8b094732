import { basic, IN_A_YEAR, newToken, startTestGateway } from '../support/gateway';

/**
 * A bulk revocation on a connection that served small revocations first (the usual case in a
 * warm pool): the change feed's trigger once kept the plan of its first, tiny call (a nested loop
 * over the statement's old and new rows) and took minutes over 30,000 tokens. One connection here,
 * so the bulk surely runs where the small ones did.
 */
(process.env.DATABASE_URL ? describe : describe.skip)('a bulk revocation after small ones, on the same connection', () => {
  it('revokes 30,000 tokens within the default statement timeout', async () => {
    const gw = await startTestGateway({ DATABASE_POOL_SIZE: '1' });
    try {
      await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
      const small = Array.from({ length: 10 }, () => newToken('at'));
      await gw.admin('POST', '/admin/tokens', {
        tokens: small.map((token) => ({ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR })),
      });
      for (const token of small) expect((await gw.post('/token/revoke', { token }, { authorization: basic('tpp', 'tpp-secret-value') })).status).toBe(200);
      await gw.database.dataSource.query(
        `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, subject, expires_at)
         SELECT 'default', sha256(convert_to('bulk.' || i, 'UTF8')), 'access_token', 'tpp', 'g' || i, 'psu-bulk', now() + interval '1 day' FROM generate_series(1, 30000) AS i`,
      );
      const started = Date.now();
      const bulk = await gw.admin('POST', '/admin/revocations', { subject: 'psu-bulk' });
      expect(bulk.status).toBe(200);
      expect(bulk.body).toEqual({ revoked: 30000 });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await gw.stop();
    }
  }, 60_000);
});
