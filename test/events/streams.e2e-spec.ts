import { createHash, randomBytes } from 'node:crypto';
import { json, startTestGateway, type TestGateway } from '../support/gateway';
import { ISSUER } from '../support/keys';

const PUSH = 'urn:ietf:rfc:8935';
const POLL = 'urn:ietf:rfc:8936';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** docs/api.md §12.1 and §12.2: the transmitter's metadata and its streams in the admin API, against the real database. */
describe('Shared Signals: discovery and streams', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    await gw.admin('PUT', '/admin/tenants/bank-b', { issuer: 'https://as.bank-b.example' });
  });
  afterAll(() => gw.stop());

  const push = (extra: Record<string, unknown> = {}) => ({
    aud: 'https://rs.bank.example',
    delivery: { method: PUSH, endpoint_url: 'https://receiver.example/events' },
    events_requested: [TOKEN_REVOKED, SESSION_REVOKED, 'https://schemas.openid.net/secevent/caep/event-type/credential-change'],
    ...extra,
  });

  describe('GET /.well-known/ssf-configuration (public port)', () => {
    it("names the gateway's issuer, its keys and both delivery methods", async () => {
      const response = await fetch(`${gw.publicUrl}/.well-known/ssf-configuration`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await json(response)).toEqual({ spec_version: '1_0', issuer: ISSUER, jwks_uri: `${ISSUER}/jwks.json`, delivery_methods_supported: [PUSH, POLL] });
    });

    it("names a tenant's issuer when Tenant-ID or Issuer names the tenant; an unknown tenant is a 400", async () => {
      expect((await json(await fetch(`${gw.publicUrl}/.well-known/ssf-configuration`, { headers: { 'tenant-id': 'bank-b' } }))).issuer).toBe(
        'https://as.bank-b.example',
      );
      expect((await json(await fetch(`${gw.publicUrl}/.well-known/ssf-configuration`, { headers: { issuer: 'https://as.bank-b.example' } }))).issuer).toBe(
        'https://as.bank-b.example',
      );
      const unknown = await fetch(`${gw.publicUrl}/.well-known/ssf-configuration`, { headers: { 'tenant-id': 'nobody' } });
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get('x-fapi-interaction-id')).toMatch(UUID);
    });

    it('is not on the management port, and stream management is not on the public port', async () => {
      expect((await fetch(`${gw.managementUrl}/.well-known/ssf-configuration`)).status).toBe(404);
      expect((await fetch(`${gw.publicUrl}/admin/ssf/streams`)).status).toBe(404);
    });
  });

  describe('streams', () => {
    it('a push stream: 201 with its configuration, events_delivered the supported ones it asked for, the credential never shown', async () => {
      const created = await gw.admin(
        'POST',
        '/admin/ssf/streams',
        push({
          description: 'bank RS',
          delivery: { method: PUSH, endpoint_url: 'https://receiver.example/events', authorization_header: 'Bearer receiver-secret-value' },
        }),
      );
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        stream_id: expect.stringMatching(UUID),
        iss: ISSUER,
        aud: 'https://rs.bank.example',
        delivery: { method: PUSH, endpoint_url: 'https://receiver.example/events', authorization_header_set: true },
        events_supported: [TOKEN_REVOKED, SESSION_REVOKED],
        events_requested: push().events_requested,
        events_delivered: [TOKEN_REVOKED, SESSION_REVOKED],
        description: 'bank RS',
        status: 'enabled',
      });
      expect(JSON.stringify(created.body)).not.toContain('receiver-secret-value');
      const got = await gw.admin('GET', `/admin/ssf/streams?stream_id=${created.body.stream_id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created.body);
      const [row] = await gw.database.dataSource.query('SELECT sealed_authorization FROM ssf_streams WHERE stream_id = $1', [created.body.stream_id]);
      expect(Buffer.from(row.sealed_authorization).toString('latin1')).not.toContain('receiver-secret-value');
    });

    it("a poll stream: its endpoint is the gateway's, the token is in the 201 only and stored as its hash", async () => {
      const created = await gw.admin('POST', '/admin/ssf/streams', {
        tenant: 'bank-b',
        aud: ['rs-1', 'rs-2'],
        delivery: { method: POLL },
        events_requested: [TOKEN_REVOKED],
      });
      expect(created.status).toBe(201);
      const { stream_id: id, poll_token: token } = created.body;
      expect(created.body).toMatchObject({
        iss: 'https://as.bank-b.example',
        aud: ['rs-1', 'rs-2'],
        delivery: { method: POLL, endpoint_url: `${ISSUER}/ssf/poll/${id}` },
      });
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const listed = await gw.admin('GET', '/admin/ssf/streams');
      expect(listed.body.streams.map((s: { stream_id: string }) => s.stream_id)).toContain(id);
      expect(JSON.stringify(listed.body)).not.toContain(token);
      const [row] = await gw.database.dataSource.query("SELECT encode(poll_token_hash, 'hex') AS hash FROM ssf_streams WHERE stream_id = $1", [id]);
      expect(row.hash).toBe(createHash('sha256').update(token).digest('hex'));
    });

    it.each([
      ['no delivery', { aud: 'x', events_requested: [] }],
      ['an unknown method', push({ delivery: { method: 'urn:example:carrier-pigeon', endpoint_url: 'https://r.example' } })],
      ['push without endpoint_url', push({ delivery: { method: PUSH } })],
      ['an endpoint that is not http(s)', push({ delivery: { method: PUSH, endpoint_url: 'ftp://r.example/events' } })],
      ['an endpoint with credentials', push({ delivery: { method: PUSH, endpoint_url: 'https://user:pw@r.example/events' } })],
      ['an endpoint with a line break the URL parser would drop', push({ delivery: { method: PUSH, endpoint_url: 'https://r.exa\nmple/events' } })],
      ['a poll stream with a credential', { aud: 'x', delivery: { method: POLL, authorization_header: 'Bearer x' }, events_requested: [] }],
      [
        'a credential with a line break',
        push({ delivery: { method: PUSH, endpoint_url: 'https://r.example', authorization_header: 'Bearer a\r\nX-Injected: 1' } }),
      ],
      ['no aud', { delivery: { method: POLL }, events_requested: [] }],
      ['an empty aud array', push({ aud: [] })],
      ['events_requested missing', { aud: 'x', delivery: { method: POLL } }],
      ['events_requested not an array', push({ events_requested: TOKEN_REVOKED })],
      ['an unknown tenant', push({ tenant: 'nobody' })],
      ['a malformed tenant', push({ tenant: '../etc' })],
      ['a body that is not an object', ['x']],
    ])('refuses %s with 400', async (_name, body) => {
      const response = await gw.admin('POST', '/admin/ssf/streams', body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('PATCH changes only what it names; the credential can be replaced or removed; the method cannot change', async () => {
      const { body: stream } = await gw.admin('POST', '/admin/ssf/streams', push({ description: 'before' }));
      const patched = await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, {
        aud: ['a', 'b'],
        events_requested: [SESSION_REVOKED],
        delivery: { endpoint_url: 'https://receiver.example/v2', authorization_header: 'Basic cmVjZWl2ZXI6cHc=' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        aud: ['a', 'b'],
        description: 'before',
        events_requested: [SESSION_REVOKED],
        events_delivered: [SESSION_REVOKED],
        delivery: { method: PUSH, endpoint_url: 'https://receiver.example/v2', authorization_header_set: true },
      });
      // The credential does not follow the endpoint to another origin unless the PATCH says so.
      const moved = await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { delivery: { endpoint_url: 'https://elsewhere.example/events' } });
      expect(moved.status).toBe(400);
      expect(moved.body.error_description).toMatch(/authorization_header/);
      const samePlace = await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { delivery: { endpoint_url: 'https://receiver.example/v3' } });
      expect(samePlace.body.delivery).toMatchObject({ endpoint_url: 'https://receiver.example/v3', authorization_header_set: true });
      const cleared = await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { delivery: { authorization_header: null } });
      expect(cleared.body.delivery.authorization_header_set).toBe(false);
      expect((await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { delivery: { method: POLL } })).status).toBe(400);
      expect((await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { aud: 7 })).status).toBe(400);
    });

    it('status: enabled, paused, disabled, with a reason; anything else 400', async () => {
      const { body: stream } = await gw.admin('POST', '/admin/ssf/streams', push());
      const paused = await gw.admin('POST', `/admin/ssf/streams/${stream.stream_id}/status`, { status: 'paused', reason: 'receiver maintenance' });
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ stream_id: stream.stream_id, status: 'paused', reason: 'receiver maintenance' });
      expect((await gw.admin('GET', `/admin/ssf/streams?stream_id=${stream.stream_id}`)).body.status).toBe('paused');
      expect((await gw.admin('POST', `/admin/ssf/streams/${stream.stream_id}/status`, { status: 'disabled' })).body).toEqual({
        stream_id: stream.stream_id,
        status: 'disabled',
      });
      expect((await gw.admin('POST', `/admin/ssf/streams/${stream.stream_id}/status`, { status: 'asleep' })).status).toBe(400);
    });

    it('DELETE: 204, then the stream is gone (404 for it everywhere)', async () => {
      const { body: stream } = await gw.admin('POST', '/admin/ssf/streams', push());
      expect((await gw.admin('DELETE', `/admin/ssf/streams/${stream.stream_id}`)).status).toBe(204);
      expect((await gw.admin('GET', `/admin/ssf/streams?stream_id=${stream.stream_id}`)).status).toBe(404);
      expect((await gw.admin('DELETE', `/admin/ssf/streams/${stream.stream_id}`)).status).toBe(404);
      expect((await gw.admin('PATCH', `/admin/ssf/streams/${stream.stream_id}`, { description: 'x' })).status).toBe(404);
      expect((await gw.admin('POST', `/admin/ssf/streams/${stream.stream_id}/status`, { status: 'paused' })).status).toBe(404);
      expect((await gw.admin('POST', `/admin/ssf/streams/${stream.stream_id}/status`, { status: 'bogus' })).status).toBe(404);
      expect((await gw.admin('GET', '/admin/ssf/streams?stream_id=not-a-uuid')).status).toBe(404);
    });

    it('needs the admin bearer token like every admin route', async () => {
      const response = await fetch(`${gw.managementUrl}/admin/ssf/streams`);
      expect(response.status).toBe(401);
    });
  });
});

describe('Shared Signals streams without TOKEN_ENCRYPTION_KEY', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.stop());

  it('a stream with a receiver credential is a 400 naming the key; one without is made', async () => {
    const body = { aud: 'x', delivery: { method: PUSH, endpoint_url: 'https://r.example/events', authorization_header: 'Bearer x' }, events_requested: [] };
    const refused = await gw.admin('POST', '/admin/ssf/streams', body);
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toContain('TOKEN_ENCRYPTION_KEY');
    expect((await gw.admin('POST', '/admin/ssf/streams', { ...body, delivery: { method: PUSH, endpoint_url: 'https://r.example/events' } })).status).toBe(201);
  });
});
