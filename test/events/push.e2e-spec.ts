import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AccessTokenIssuer } from '../support/access-tokens';
import { basic, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { eventually } from '../support/eventually';
import { assertionForm, clientAssertion, signingKey } from '../support/keys';
import { ISSUER } from '../support/keys';
import { SetReceiver, type ReceivedSet } from '../support/set-receiver';
import { publishedKeyFor } from '../support/signing-jwks';
import { verifyWithOpenSsl } from '../support/verify-jws';

const PUSH = 'urn:ietf:rfc:8935';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const opaqueId = (token: string) => createHash('sha256').update(token).digest('base64url');
const typeOf = (set: ReceivedSet) => Object.keys(set.claims.events)[0];

/** docs/api.md §12.3, §12.4: revocations become signed SETs pushed to receivers, against the real database and a real HTTP receiver. */
describe('Shared Signals: events and push delivery', () => {
  let gw: TestGateway;
  let receiver: SetReceiver;
  const auth = { authorization: basic('tpp', 'tpp-secret-value') };
  const as = new AccessTokenIssuer('https://as.bank.example');

  beforeAll(async () => {
    await as.start();
    gw = await startTestGateway({
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SSF_PUSH_TIMEOUT_MS: '500',
      ACCESS_TOKEN_JWKS_URI: as.jwks.url,
      ACCESS_TOKEN_ISSUER: as.issuer,
    });
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    receiver = await SetReceiver.start();
  });
  afterAll(async () => {
    await gw.stop();
    await receiver.stop();
    await as.stop();
  });
  const streams: string[] = [];
  afterEach(async () => {
    for (const id of streams.splice(0)) await gw.admin('DELETE', `/admin/ssf/streams/${id}`);
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.attempts.length = 0;
    receiver.behave = () => ({ status: 202 });
  });

  async function stream(extra: Record<string, unknown> = {}, tenant?: string): Promise<string> {
    const created = await gw.admin('POST', '/admin/ssf/streams', {
      ...(tenant ? { tenant } : {}),
      aud: 'https://rs.bank.example',
      delivery: { method: PUSH, endpoint_url: receiver.url, authorization_header: 'Bearer receiver-credential' },
      events_requested: [TOKEN_REVOKED, SESSION_REVOKED],
      ...extra,
    });
    expect(created.status).toBe(201);
    streams.push(created.body.stream_id);
    return created.body.stream_id;
  }

  async function register(tokens: Array<Record<string, unknown>>) {
    const base = { client_id: 'tpp', grant_id: 'grant-1', subject: 'psu-1', expires_at: IN_A_YEAR };
    expect((await gw.admin('POST', '/admin/tokens', { tokens: tokens.map((t) => ({ ...base, ...t })) })).status).toBe(201);
  }

  it('a client revocation: one token-revoked per token and one session-revoked per grant, signed, verified by OpenSSL, with the contract headers', async () => {
    await stream();
    const [rt, at] = [newToken('rt'), newToken('at')];
    await register([
      { token: rt, token_type: 'refresh_token' },
      { token: at, token_type: 'access_token', refresh_token: rt },
    ]);
    const interaction = randomUUID();
    const revoked = await gw.post('/token/revoke', { token: rt }, { ...auth, 'x-fapi-interaction-id': interaction });
    expect(revoked.status).toBe(200);
    const sets = await receiver.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(3);
    for (const set of sets) {
      expect(set.headers['content-type']).toBe('application/secevent+jwt');
      expect(set.headers.accept).toBe('application/json');
      expect(set.headers.authorization).toBe('Bearer receiver-credential');
      expect(set.header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'secevent+jwt' });
      expect(await verifyWithOpenSsl(set.jws, await publishedKeyFor(gw.publicUrl, set.jws))).toBe(true);
      expect(Object.keys(set.claims).sort()).toEqual(['aud', 'events', 'iat', 'iss', 'jti', 'sub_id', 'txn']);
      expect(set.claims).toMatchObject({ iss: ISSUER, aud: 'https://rs.bank.example', txn: interaction, jti: expect.stringMatching(UUID) });
      expect(Math.abs(set.claims.iat - Date.now() / 1000)).toBeLessThan(10);
      expect(Object.keys(set.claims.events)).toHaveLength(1);
    }
    expect(new Set(sets.map((s) => s.claims.jti)).size).toBe(3);
    const tokenEvents = sets.filter((s) => typeOf(s) === TOKEN_REVOKED);
    for (const s of tokenEvents) expect(s.claims.sub_id).toEqual({ format: 'opaque', id: expect.any(String) });
    expect(tokenEvents.map((s) => s.claims.sub_id.id).sort()).toEqual([opaqueId(rt), opaqueId(at)].sort());
    expect(tokenEvents.map((s) => s.claims.events[TOKEN_REVOKED].token_type).sort()).toEqual(['access_token', 'refresh_token']);
    for (const s of tokenEvents) expect(s.claims.events[TOKEN_REVOKED].reason).toBe('api');
    const [session] = sets.filter((s) => typeOf(s) === SESSION_REVOKED);
    expect(session.claims.sub_id).toEqual({
      format: 'complex',
      session: { format: 'opaque', id: 'grant-1' },
      user: { format: 'iss_sub', iss: ISSUER, sub: 'psu-1' },
    });
    expect(session.claims.events[SESSION_REVOKED]).toEqual({
      event_timestamp: expect.any(Number),
      initiating_entity: 'user',
      reason_admin: { en: expect.any(String) },
    });
  });

  it('an unknown token, another client\u2019s, or one already revoked makes no SET', async () => {
    await stream();
    await gw.admin('PUT', '/admin/clients/other', { auth_method: 'client_secret_basic', secret: 'other-secret-value' });
    const [mine, theirs] = [newToken('at'), newToken('at')];
    await register([
      { token: mine, token_type: 'access_token' },
      { token: theirs, token_type: 'access_token', client_id: 'other' },
    ]);
    expect((await gw.post('/token/revoke', { token: newToken('unknown') }, auth)).status).toBe(200);
    expect((await gw.post('/token/revoke', { token: theirs }, auth)).status).toBe(400);
    expect((await gw.post('/token/revoke', { token: mine }, auth)).status).toBe(200);
    await receiver.waitFor(2);
    expect((await gw.post('/token/revoke', { token: mine }, auth)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.map((s) => s.claims.sub_id.id ?? s.claims.sub_id.session.id).sort()).toEqual([opaqueId(mine), 'grant-1'].sort());
  });

  it('a bulk revocation by subject: token-revoked (reason admin) per token and one iss_sub session-revoked, also when it revoked nothing', async () => {
    await stream();
    const subject = `psu-${randomUUID()}`;
    const tokens = [newToken('at'), newToken('at')];
    await register(tokens.map((token, i) => ({ token, token_type: 'access_token', subject, grant_id: `g${i}` })));
    const bulk = await gw.admin('POST', '/admin/revocations', { subject });
    expect(bulk.body).toEqual({ revoked: 2 });
    const sets = await receiver.waitFor(3);
    const tokenEvents = sets.filter((s) => typeOf(s) === TOKEN_REVOKED);
    expect(tokenEvents.map((s) => s.claims.events[TOKEN_REVOKED].reason)).toEqual(['admin', 'admin']);
    const sessions = sets.filter((s) => typeOf(s) === SESSION_REVOKED);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].claims.sub_id).toEqual({ format: 'iss_sub', iss: ISSUER, sub: subject });
    expect(sessions[0].claims.events[SESSION_REVOKED].initiating_entity).toBe('admin');
    expect(sessions[0].claims.txn).toMatch(UUID);
    receiver.received.length = 0;
    expect((await gw.admin('POST', '/admin/revocations', { subject: 'nobody-at-all' })).body).toEqual({ revoked: 0 });
    const [again] = await receiver.waitFor(1);
    expect(again.claims.sub_id).toEqual({ format: 'iss_sub', iss: ISSUER, sub: 'nobody-at-all' });
  });

  it('verification: a verification SET with the state, for the stream; txn is the request\u2019s interaction id', async () => {
    const id = await stream();
    const interaction = randomUUID();
    const response = await fetch(`${gw.managementUrl}/admin/ssf/streams/${id}/verify`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json', 'x-fapi-interaction-id': interaction },
      body: JSON.stringify({ state: 'abc123' }),
    });
    expect(response.status).toBe(204);
    const [set] = await receiver.waitFor(1);
    expect(set.claims.events).toEqual({ [VERIFICATION]: { state: 'abc123' } });
    expect(set.claims.sub_id).toEqual({ format: 'opaque', id });
    expect(set.claims.txn).toBe(interaction);
    expect((await gw.admin('POST', `/admin/ssf/streams/${randomUUID()}/verify`, {})).status).toBe(404);
  });

  it('a receiver answering 500, then 202: retried until delivered, delivered once', async () => {
    const id = await stream();
    let failures = 3;
    receiver.behave = () => (failures-- > 0 ? { status: 500 } : { status: 202 });
    await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, { state: 'retry' });
    const [set] = await receiver.waitFor(1, 15_000);
    expect(receiver.attempts.length).toBe(4);
    expect(new Set(receiver.attempts.map((a) => a.jws)).size).toBe(1);
    expect(set.claims.events[VERIFICATION].state).toBe('retry');
  });

  it('a receiver answering 400: rejected, not retried, counted', async () => {
    const id = await stream();
    receiver.behave = () => ({ status: 400, body: JSON.stringify({ err: 'invalid_audience', description: 'no' }) });
    await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, {});
    await eventually(async () => receiver.attempts.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(receiver.attempts).toHaveLength(1);
    const metrics = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/revgw_set_deliveries_total\{method="push",outcome="rejected"\} [1-9]/);
    const [{ count }] = await gw.database.dataSource.query(`SELECT count(*)::int AS count FROM ssf_sets WHERE stream_id = $1`, [id]);
    expect(count).toBe(0);
  });

  it('a JWT access token nobody registered: token-revoked names it by iss and jti; no session-revoked (it names no grant)', async () => {
    await stream();
    const jwt = await as.mint('tpp');
    const { jti } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
    expect((await gw.post('/token/revoke', { token: jwt }, auth)).status).toBe(200);
    const [set] = await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(1);
    expect(set.claims.sub_id).toEqual({ format: 'jwt_id', iss: as.issuer, jti });
    expect(set.claims.events[TOKEN_REVOKED]).toEqual({ token_type: 'access_token', reason: 'api' });
  });

  it('a CDR arrangement: token-revoked per token and session-revoked per grant, initiated by the user', async () => {
    await stream();
    const key = await signingKey('ES256');
    await gw.admin('PUT', '/admin/clients/cdr-tpp', { auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const consent = `arr-${randomUUID()}`;
    const [rt, at] = [newToken('rt'), newToken('at')];
    await register([
      { token: rt, token_type: 'refresh_token', client_id: 'cdr-tpp', consent_id: consent, grant_id: 'g-cdr' },
      { token: at, token_type: 'access_token', client_id: 'cdr-tpp', consent_id: consent, grant_id: 'g-cdr', refresh_token: rt },
    ]);
    const assertion = await clientAssertion(key, 'cdr-tpp', { aud: `${ISSUER}/arrangements/revoke` });
    expect((await gw.post('/arrangements/revoke', assertionForm(assertion, { cdr_arrangement_id: consent }))).status).toBe(204);
    const sets = await receiver.waitFor(3);
    expect(sets.filter((s) => typeOf(s) === TOKEN_REVOKED)).toHaveLength(2);
    const [session] = sets.filter((s) => typeOf(s) === SESSION_REVOKED);
    expect(session.claims.sub_id.session).toEqual({ format: 'opaque', id: 'g-cdr' });
    expect(session.claims.events[SESSION_REVOKED].initiating_entity).toBe('user');
  });

  it('only the streams of the revocation’s tenant, and only the event types each requested', async () => {
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
    await stream({}, 'bank-b');
    await stream({ events_requested: [SESSION_REVOKED] });
    await register([{ token: newToken('at'), token_type: 'access_token', grant_id: 'g-types' }]);
    const token = newToken('at');
    await register([{ token, token_type: 'access_token', grant_id: 'g-types' }]);
    expect((await gw.post('/token/revoke', { token }, auth)).status).toBe(200);
    const [set] = await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(1);
    expect(typeOf(set)).toBe(SESSION_REVOKED);
    expect(set.claims.iss).toBe(ISSUER);
  });

  it('a paused stream keeps its SETs and delivers them when resumed; a disabled one makes none', async () => {
    const id = await stream();
    await gw.admin('POST', `/admin/ssf/streams/${id}/status`, { status: 'paused' });
    await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, { state: 'while-paused' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.attempts).toHaveLength(0);
    await gw.admin('POST', `/admin/ssf/streams/${id}/status`, { status: 'enabled' });
    const [set] = await receiver.waitFor(1);
    expect(set.claims.events[VERIFICATION].state).toBe('while-paused');
    await gw.admin('POST', `/admin/ssf/streams/${id}/status`, { status: 'disabled' });
    expect((await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, {})).status).toBe(204);
    await gw.admin('POST', `/admin/ssf/streams/${id}/status`, { status: 'enabled' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.attempts).toHaveLength(1);
  });

  it('a receiver slower than SSF_PUSH_TIMEOUT_MS, or cutting the connection: tried again, and delivered once it answers', async () => {
    const id = await stream();
    let slow = 2;
    receiver.behave = () => (slow-- > 0 ? (slow === 1 ? { status: 202, delayMs: 1500 } : 'destroy') : { status: 202 });
    await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, { state: 'slow' });
    await eventually(async () => receiver.attempts.length >= 3, 15_000, 'three attempts');
    // The slow answer's 202 came after the gateway gave up: its SET was delivered again, never twice at once.
    expect(receiver.maxConcurrentPerSet).toBe(1);
    expect(new Set(receiver.attempts.map((a) => a.claims.jti)).size).toBe(1);
  });

  it('a receiver refusing connections: the SETs wait, and are all delivered when it is back', async () => {
    const id = await stream();
    await receiver.down();
    for (let i = 0; i < 5; i++) await gw.admin('POST', `/admin/ssf/streams/${id}/verify`, { state: `down-${i}` });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const metrics = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(/revgw_set_pending [1-9]/);
    expect(metrics).toMatch(/revgw_set_deliveries_total\{method="push",outcome="retried"\} [1-9]/);
    await receiver.up();
    const sets = await receiver.waitFor(5, 15_000);
    expect(sets.map((s) => s.claims.events[VERIFICATION].state).sort()).toEqual(['down-0', 'down-1', 'down-2', 'down-3', 'down-4']);
    await eventually(async () => /revgw_set_pending 0/.test(await (await fetch(`${gw.managementUrl}/metrics`)).text()), 5000, 'nothing pending');
  });
});
