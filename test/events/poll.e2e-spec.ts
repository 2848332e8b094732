import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../src/config/config';
import { SetPruner } from '../../src/events/set-pruner';
import { SetStore } from '../../src/events/set-store';
import { Metrics } from '../../src/metrics/metrics';
import { basic, IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { ISSUER } from '../support/keys';
import { publishedKeyFor } from '../support/signing-jwks';
import { verifyWithOpenSsl } from '../support/verify-jws';

const POLL = 'urn:ietf:rfc:8936';
const PUSH = 'urn:ietf:rfc:8935';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const claimsOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));

/** docs/api.md §12.5: RFC 8936 poll delivery on the public port, against the real database. */
describe('Shared Signals: poll delivery', () => {
  let gw: TestGateway;
  const auth = { authorization: basic('tpp', 'tpp-secret-value') };

  beforeAll(async () => {
    gw = await startTestGateway({ TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(() => gw.stop());

  async function pollStream(events = [TOKEN_REVOKED]): Promise<{ id: string; token: string; url: string }> {
    const created = await gw.admin('POST', '/admin/ssf/streams', { aud: ['rs-1', 'rs-2'], delivery: { method: POLL }, events_requested: events });
    expect(created.status).toBe(201);
    const id = created.body.stream_id as string;
    expect(created.body.delivery.endpoint_url).toBe(`${ISSUER}/ssf/poll/${id}`);
    return { id, token: created.body.poll_token, url: `${gw.publicUrl}/ssf/poll/${id}` };
  }

  const poll = (url: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function revokeTokens(count: number): Promise<string[]> {
    const tokens = Array.from({ length: count }, () => newToken('at'));
    const base = { client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR, token_type: 'access_token' };
    expect((await gw.admin('POST', '/admin/tokens', { tokens: tokens.map((token) => ({ ...base, token })) })).status).toBe(201);
    for (const token of tokens) expect((await gw.post('/token/revoke', { token }, auth)).status).toBe(200);
    return tokens;
  }

  it('returns the SETs, signed and verifiable; unacknowledged ones come again with the same bytes; acknowledged ones are gone', async () => {
    const stream = await pollStream();
    const tokens = await revokeTokens(3);
    const first = await poll(stream.url, stream.token, { returnImmediately: true });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    const body = await json(first);
    expect(body.moreAvailable).toBe(false);
    const jtis = Object.keys(body.sets);
    expect(jtis).toHaveLength(3);
    for (const [jti, jws] of Object.entries<string>(body.sets)) {
      const claims = claimsOf(jws);
      expect(claims.jti).toBe(jti);
      expect(claims.aud).toEqual(['rs-1', 'rs-2']);
      expect(claims.sub_id.format).toBe('opaque');
      expect(await verifyWithOpenSsl(jws, await publishedKeyFor(gw.publicUrl, jws))).toBe(true);
    }
    expect(
      Object.values<string>(body.sets)
        .map((jws) => claimsOf(jws).sub_id.id)
        .sort(),
    ).toEqual(tokens.map((t) => createHash('sha256').update(t).digest('base64url')).sort());
    // Nothing acknowledged: the same three, byte for byte.
    expect((await json(await poll(stream.url, stream.token, { returnImmediately: true }))).sets).toEqual(body.sets);
    // One acknowledged, one reported in error: only the third is left.
    const again = await json(
      await poll(stream.url, stream.token, { returnImmediately: true, ack: [jtis[0]], setErrs: { [jtis[1]]: { err: 'invalid_key', description: 'x' } } }),
    );
    expect(Object.keys(again.sets)).toEqual([jtis[2]]);
    const last = await json(await poll(stream.url, stream.token, { returnImmediately: true, ack: [jtis[2]] }));
    expect(last).toEqual({ sets: {}, moreAvailable: false });
    const metrics = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/revgw_set_deliveries_total\{method="poll",outcome="acknowledged"\} [2-9]/);
    expect(metrics).toMatch(/revgw_set_deliveries_total\{method="poll",outcome="error"\} [1-9]/);
  });

  it('maxEvents bounds the answer and moreAvailable says there is more; maxEvents 0 only acknowledges', async () => {
    const stream = await pollStream();
    await revokeTokens(3);
    const two = await json(await poll(stream.url, stream.token, { returnImmediately: true, maxEvents: 2 }));
    expect(Object.keys(two.sets)).toHaveLength(2);
    expect(two.moreAvailable).toBe(true);
    const none = await json(await poll(stream.url, stream.token, { maxEvents: 0, ack: Object.keys(two.sets) }));
    expect(none).toEqual({ sets: {}, moreAvailable: true });
    const rest = await json(await poll(stream.url, stream.token, { returnImmediately: true }));
    expect(Object.keys(rest.sets)).toHaveLength(1);
  });

  it('a long poll waits for the first SET and is woken by the revocation, not by a timer', async () => {
    const stream = await pollStream([TOKEN_REVOKED, SESSION_REVOKED]);
    const started = Date.now();
    const waiting = poll(stream.url, stream.token, {});
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await revokeTokens(1);
    const answer = await json(await waiting);
    const elapsed = Date.now() - started;
    expect(Object.keys(answer.sets).length).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('a paused stream gives nothing and keeps its SETs; resumed, they come; disabled, they are gone and none are made', async () => {
    const stream = await pollStream();
    await gw.admin('POST', `/admin/ssf/streams/${stream.id}/status`, { status: 'paused' });
    await revokeTokens(1);
    expect(await json(await poll(stream.url, stream.token, { returnImmediately: true }))).toEqual({ sets: {}, moreAvailable: false });
    await gw.admin('POST', `/admin/ssf/streams/${stream.id}/status`, { status: 'enabled' });
    expect(Object.keys((await json(await poll(stream.url, stream.token, { returnImmediately: true }))).sets)).toHaveLength(1);
    await gw.admin('POST', `/admin/ssf/streams/${stream.id}/status`, { status: 'disabled' });
    await revokeTokens(1);
    await gw.admin('POST', `/admin/ssf/streams/${stream.id}/status`, { status: 'enabled' });
    expect(await json(await poll(stream.url, stream.token, { returnImmediately: true }))).toEqual({ sets: {}, moreAvailable: false });
    expect((await gw.admin('POST', `/admin/ssf/streams/${stream.id}/verify`, {})).status).toBe(204);
    expect(Object.keys((await json(await poll(stream.url, stream.token, { returnImmediately: true }))).sets)).toHaveLength(1);
  });

  it('a stream of another tenant gets nothing of this tenant\u2019s revocations', async () => {
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
    const created = await gw.admin('POST', '/admin/ssf/streams', {
      tenant: 'bank-b',
      aud: 'rs',
      delivery: { method: POLL },
      events_requested: [TOKEN_REVOKED],
    });
    await revokeTokens(1);
    const answer = await json(await poll(`${gw.publicUrl}/ssf/poll/${created.body.stream_id}`, created.body.poll_token, { returnImmediately: true }));
    expect(answer).toEqual({ sets: {}, moreAvailable: false });
  });

  it('SSF_RETENTION_S: a SET older than retention is pruned, counted expired, and polled no more', async () => {
    const stream = await pollStream();
    await revokeTokens(2);
    // One of the two was written eight days ago (a week is the default retention).
    await gw.database.dataSource.query(
      `UPDATE ssf_sets SET created_at = now() - interval '8 days' WHERE id = (SELECT min(id) FROM ssf_sets WHERE stream_id = $1)`,
      [stream.id],
    );
    const metrics = new Metrics();
    const config = loadConfig({ ISSUER, ADMIN_API_TOKEN: 'unused-admin-token-0123456789' });
    await new SetPruner(new SetStore(gw.database.dataSource), metrics, config, pino({ level: 'silent' })).prune();
    expect(await metrics.registry.getSingleMetricAsString('revgw_set_deliveries_total')).toMatch(/method="poll",outcome="expired"\} 1/);
    const answer = await json(await poll(stream.url, stream.token, { returnImmediately: true }));
    expect(Object.keys(answer.sets)).toHaveLength(1);
  });

  it('DELETE drops its pending SETs; then the stream is a 404', async () => {
    const stream = await pollStream();
    await revokeTokens(2);
    const [{ count }] = await gw.database.dataSource.query(`SELECT count(*)::int AS count FROM ssf_sets WHERE stream_id = $1`, [stream.id]);
    expect(count).toBe(2);
    expect((await gw.admin('DELETE', `/admin/ssf/streams/${stream.id}`)).status).toBe(204);
    const [after] = await gw.database.dataSource.query(`SELECT count(*)::int AS count FROM ssf_sets WHERE stream_id = $1`, [stream.id]);
    expect(after.count).toBe(0);
    expect((await poll(stream.url, stream.token, { returnImmediately: true })).status).toBe(404);
  });

  describe('refusals, each with the rfc7009 error body and the interaction id', () => {
    let stream: { id: string; token: string; url: string };
    let pushId: string;
    beforeAll(async () => {
      stream = await pollStream();
      pushId = (
        await gw.admin('POST', '/admin/ssf/streams', {
          aud: 'rs',
          delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/e' },
          events_requested: [TOKEN_REVOKED],
        })
      ).body.stream_id;
    });

    const refused = async (response: Response, status: number, error: string) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      const body = await json(response);
      expect(body).toEqual({ error, error_description: expect.any(String) });
      return response;
    };

    it('404: an unknown stream, or not a stream id at all', async () => {
      await refused(await poll(`${gw.publicUrl}/ssf/poll/${randomUUID()}`, stream.token, {}), 404, 'not_found');
      await refused(await poll(`${gw.publicUrl}/ssf/poll/not-a-uuid`, stream.token, {}), 404, 'not_found');
    });

    it('400: a push stream, whatever the token', async () => {
      await refused(await poll(`${gw.publicUrl}/ssf/poll/${pushId}`, undefined, {}), 400, 'invalid_request');
      await refused(await poll(`${gw.publicUrl}/ssf/poll/${pushId}`, stream.token, {}), 400, 'invalid_request');
    });

    it('401: a missing or wrong poll token, or another stream\u2019s', async () => {
      const other = await pollStream();
      for (const token of [undefined, 'wrong', other.token]) {
        const response = await refused(await poll(stream.url, token, { returnImmediately: true }), 401, 'invalid_token');
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      const basicAuth = await poll(stream.url, undefined, {}, { authorization: `Basic ${Buffer.from(`x:${stream.token}`).toString('base64')}` });
      await refused(basicAuth, 401, 'invalid_token');
    });

    it('400: a body that is not a poll request', async () => {
      for (const body of [
        [],
        'text',
        { maxEvents: -1 },
        { maxEvents: 1.5 },
        { maxEvents: '10' },
        { returnImmediately: 'yes' },
        { ack: 'jti' },
        { ack: [1] },
        { setErrs: [] },
        { setErrs: { a: 'x' } },
      ]) {
        await refused(await poll(stream.url, stream.token, body), 400, 'invalid_request');
      }
      const malformed = await fetch(stream.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stream.token}` },
        body: '{"ack":',
      });
      await refused(malformed, 400, 'invalid_request');
      const form = await fetch(stream.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${stream.token}` },
        body: 'a=b',
      });
      expect(form.status).toBe(400);
    });

    it('413: a body over the route’s limit, read no further (16 KiB elsewhere, 256 KiB here)', async () => {
      const big = JSON.stringify({ token: 'x'.repeat(100 * 1024) });
      const revoke = await fetch(`${gw.publicUrl}/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: big });
      expect(revoke.status).toBe(413);
      const huge = JSON.stringify({ ack: Array.from({ length: 8000 }, () => randomUUID()) });
      expect((await poll(stream.url, stream.token, JSON.parse(huge))).status).toBe(413);
      // Within the limit, 2,000 acknowledgements are taken (RFC 8936 §2.4: the jtis of two full polls).
      const many = await poll(stream.url, stream.token, { returnImmediately: true, ack: Array.from({ length: 2000 }, () => randomUUID()) });
      expect(many.status).toBe(200);
    });

    it('JSON is taken on this route only: a JSON body to a revocation endpoint is still refused', async () => {
      const response = await fetch(`${gw.publicUrl}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"token":"x"}',
      });
      await refused(response, 400, 'invalid_request');
    });
  });
});
