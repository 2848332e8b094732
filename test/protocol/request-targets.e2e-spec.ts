import { Writable } from 'node:stream';
import { createRootLogger } from '../../src/logging/logging';
import { hashToken } from '../../src/revocation/token-hash';
import { basic, IN_A_YEAR, newToken, rawHttp, startTestGateway, type TestGateway } from '../support/gateway';
import { matchingSpellings, nonMatchingSpellings, parseAnswer, sendTarget } from '../support/request-targets';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * A public route is the route the router matched, whatever spelling of its path the request used
 * (percent-encoded, absolute-form): its profile decides the error shape, the metric label and the
 * log line, as for the plain path. And the requests Node answers before Fastify sees them (no
 * Host, CONNECT, a body that stalls) still get the contract's shape and interaction id.
 */
describe('request targets and the requests Node answers itself', () => {
  let gw: TestGateway;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    gw = await startTestGateway({ LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: '1000' }, createRootLogger({ logLevel: 'info', logFormat: 'json' }, sink));
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
  });
  afterAll(() => gw.stop());

  async function metric(series: string): Promise<number> {
    const text = await (await fetch(`${gw.managementUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  // An unknown client: each profile's 401 shape tells which profile answered.
  const SHAPES = [
    { route: '/token/revoke', profile: 'rfc7009', keys: ['client_auth_id', 'error', 'error_description'] },
    { route: '/token/revocation', profile: 'fapi', keys: ['errors'] },
    { route: '/oauth2/rest/token/revoke', profile: 'oam', keys: ['errorCode', 'errorMessage'] },
    { route: '/api/id/v1/auth/token/revoke', profile: 'idv1', keys: ['error', 'errorDescription'] },
    { route: '/arrangements/revoke', profile: 'cdr', keys: ['errors'] },
  ];

  it.each(SHAPES)('$route: every spelling is that profile (error shape, metric label, log line)', async ({ route, profile, keys }) => {
    const before = await metric(`revgw_http_requests_total{profile="${profile}",status="401"}`);
    const spellings = matchingSpellings(route);
    for (const target of spellings) {
      const answer = await sendTarget(gw.publicUrl, 'POST', target, {
        body: 'token=x&cdr_arrangement_id=x',
        headers: { ...FORM, authorization: basic('nobody', 'nothing') },
      });
      expect({ target, status: answer.status }).toEqual({ target, status: 401 });
      expect(Object.keys(JSON.parse(answer.body)).sort()).toEqual(keys);
      const line = lines.find((l) => l.interaction_id === answer.headers['x-fapi-interaction-id'] && l.msg === 'request completed');
      expect(line).toMatchObject({ profile, status: 401, req: { route } });
    }
    expect(await metric(`revgw_http_requests_total{profile="${profile}",status="401"}`)).toBe(before + spellings.length);
  });

  it('revokes through an encoded and an absolute-form path like through the plain one', async () => {
    const tokens = [newToken(), newToken()];
    await gw.admin('POST', '/admin/tokens', {
      tokens: tokens.map((token) => ({ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR })),
    });
    for (const [target, token] of [
      ['/token/%72evoke', tokens[0]],
      ['http://gateway.example/token/revoke', tokens[1]],
    ]) {
      const answer = await sendTarget(gw.publicUrl, 'POST', target, {
        body: `token=${token}`,
        headers: { ...FORM, authorization: basic('tpp', 'tpp-secret-value') },
      });
      expect(answer.status).toBe(200);
      expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(false);
    }
  });

  it('another method on any spelling of a route is 405 with Allow, in the rfc7009 shape', async () => {
    for (const { route } of SHAPES) {
      for (const target of [route, ...matchingSpellings(route)]) {
        for (const method of ['GET', 'PUT', 'DELETE', 'PROPFIND']) {
          const answer = await sendTarget(gw.publicUrl, method, target);
          expect({ target, method, status: answer.status }).toEqual({ target, method, status: 405 });
          expect(answer.headers.allow).toBe('POST');
          expect(JSON.parse(answer.body)).toEqual({ error: 'method_not_allowed', error_description: `method ${method} is not allowed here` });
        }
      }
    }
    const metadata = await sendTarget(gw.publicUrl, 'POST', '/.well-known/%6fauth-authorization-server');
    expect(metadata.status).toBe(405);
    expect(metadata.headers.allow).toBe('GET, HEAD');
  });

  it('a spelling that names no route is 404 in the rfc7009 shape, labelled other', async () => {
    for (const target of nonMatchingSpellings('/token/revocation')) {
      const answer = await sendTarget(gw.publicUrl, 'POST', target, { body: 'token=x', headers: FORM });
      expect({ target, status: answer.status }).toEqual({ target, status: 404 });
      expect(JSON.parse(answer.body)).toEqual({ error: 'not_found', error_description: 'not found' });
      expect(lines.find((l) => l.interaction_id === answer.headers['x-fapi-interaction-id'])).toMatchObject({ profile: 'other', status: 404 });
    }
  });

  it('answers 404 before reading the body of an unknown route (no parser sees it)', async () => {
    const answer = await sendTarget(gw.managementUrl, 'POST', '/nothing', { body: '{"a":'.repeat(1000), headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(404);
  });

  describe('Host (RFC 9112 §3.2: 400 when an HTTP/1.1 request has none, or several)', () => {
    it.each([
      ['no Host', 'GET /.well-known/oauth-authorization-server HTTP/1.1\r\nConnection: close\r\n\r\n'],
      ['two Host headers', 'GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'],
    ])('%s: 400 with an interaction id and the contract body, on both ports', async (_name, request) => {
      for (const url of [gw.publicUrl, gw.managementUrl]) {
        const answer = parseAnswer(await rawHttp(url, request));
        expect(answer.status).toBe(400);
        expect(answer.headers['x-fapi-interaction-id']).toMatch(UUID);
        expect(answer.headers['cache-control']).toBe('no-store');
        expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'an HTTP/1.1 request needs exactly one Host header' });
      }
    });

    it('HTTP/1.0 needs no Host', async () => {
      const answer = parseAnswer(await rawHttp(gw.publicUrl, 'GET /.well-known/oauth-authorization-server HTTP/1.0\r\n\r\n'));
      expect(answer.status).toBe(200);
    });
  });

  it('CONNECT: 405 with an interaction id and the contract body, on both ports (the request id when it is a UUID)', async () => {
    const id = '6f1c2a4e-8d3b-4c5a-9e7f-1a2b3c4d5e6f';
    for (const url of [gw.publicUrl, gw.managementUrl]) {
      const answer = parseAnswer(await rawHttp(url, `CONNECT bank.example:443 HTTP/1.1\r\nHost: bank.example:443\r\nx-fapi-interaction-id: ${id}\r\n\r\n`));
      expect(answer.status).toBe(405);
      expect(answer.headers['x-fapi-interaction-id']).toBe(id);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(answer.body)).toEqual({ error: 'method_not_allowed', error_description: 'CONNECT is not served' });
      const other = parseAnswer(await rawHttp(url, 'CONNECT bank.example:443 HTTP/1.1\r\nHost: bank.example:443\r\nx-fapi-interaction-id: nope\r\n\r\n'));
      expect(other.headers['x-fapi-interaction-id']).toMatch(UUID);
    }
  });

  it('a body that stalls: 408 with the interaction id the request already had, and one log line under it', async () => {
    const id = '0b9f3c1e-2d4a-4b6c-8e0f-9a8b7c6d5e4f';
    const answer = parseAnswer(
      await rawHttp(
        gw.publicUrl,
        `POST /token/revoke HTTP/1.1\r\nHost: x\r\nx-fapi-interaction-id: ${id}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=`,
        { halfClose: false },
      ),
    );
    expect(answer.status).toBe(408);
    expect(answer.headers['x-fapi-interaction-id']).toBe(id);
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'request timeout' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mine = lines.filter((l) => l.interaction_id === id);
    expect(mine).toEqual([expect.objectContaining({ msg: 'request completed', status: 408, profile: 'rfc7009' })]);
    // No line for the 408 under any other id.
    expect(lines.filter((l) => l.status === 408 && l.interaction_id !== id)).toEqual([]);
    expect(await metric('revgw_http_requests_total{profile="rfc7009",status="408"}')).toBe(1);
  });

  describe('answers given before the body is read', () => {
    it('405 is decided before the body is parsed: the rfc7009 shape, never the profile’s parse or size error', async () => {
      const patch = await sendTarget(gw.publicUrl, 'PATCH', '/oauth2/rest/token/revoke', { body: 'x', headers: { 'content-type': 'text/plain' } });
      expect(patch.status).toBe(405);
      expect(JSON.parse(patch.body)).toEqual({ error: 'method_not_allowed', error_description: 'method PATCH is not allowed here' });
      const big = await sendTarget(gw.publicUrl, 'PUT', '/token/revoke', { body: `token=${'a'.repeat(20 * 1024)}`, headers: FORM });
      expect(big.status).toBe(405);
      const metrics = await sendTarget(gw.managementUrl, 'POST', '/metrics', { body: '{bad', headers: { 'content-type': 'application/json' } });
      expect(metrics.status).toBe(405);
      expect(metrics.headers.allow).toBe('GET, HEAD');
    });

    it('an early answer closes the connection: a body that never comes is no second request (no stray 408)', async () => {
      for (const [url, target] of [
        [gw.managementUrl, '/admin/revocations'],
        [gw.publicUrl, '/nothing'],
      ]) {
        const started = Date.now();
        const answer = await rawHttp(url, `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"subject"`, {
          halfClose: false,
        });
        expect(answer.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
        expect(parseAnswer(answer).headers.connection).toBe('close');
        expect(Date.now() - started).toBeLessThan(1000); // closed at once, not at the request timeout
      }
    });

    it('Expect other than 100-continue: 417 in the contract shape with an interaction id, on both ports', async () => {
      for (const url of [gw.publicUrl, gw.managementUrl]) {
        const answer = parseAnswer(await rawHttp(url, 'GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n'));
        expect(answer.status).toBe(417);
        expect(answer.headers['x-fapi-interaction-id']).toMatch(UUID);
        expect(answer.headers['cache-control']).toBe('no-store');
        expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'the expectation is not supported' });
      }
    });
  });

  it('a request line claiming HTTP/2.0 still needs exactly one Host', async () => {
    const answer = parseAnswer(await rawHttp(gw.publicUrl, 'GET /.well-known/oauth-authorization-server HTTP/2.0\r\n\r\n'));
    expect(answer.status).toBe(400);
  });

  it('a URL Fastify cannot decode: 400 in the contract shape, logged and counted', async () => {
    const before = await metric('revgw_http_requests_total{profile="other",status="400"}');
    const answer = await sendTarget(gw.publicUrl, 'GET', '/%zz');
    expect(answer.status).toBe(400);
    expect(lines.find((l) => l.interaction_id === answer.headers['x-fapi-interaction-id'])).toMatchObject({ status: 400, msg: 'request completed' });
    expect(await metric('revgw_http_requests_total{profile="other",status="400"}')).toBe(before + 1);
  });

  it('a client id of up to 255 characters can be managed through its path', async () => {
    const long = `tpp-${'x'.repeat(200)}`;
    expect((await gw.admin('PUT', `/admin/clients/${long}`, { auth_method: 'none' })).status).toBe(201);
    expect((await gw.post('/token/revoke', { token: 'x', client_id: long })).status).toBe(200);
    expect((await gw.admin('DELETE', `/admin/clients/${long}`)).status).toBe(204);
  });

  // A revocation still being served (it waits on a row another session holds) when the next
  // request on its connection stalls: the 408 is that next request's, with an id of its own.
  (process.env.DATABASE_URL ? it : it.skip)('a 408 on a pipelining connection belongs to the request that stalled, not to the one being served', async () => {
    const { Client } = await import('pg');
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }] });
    const peer = new Client({ connectionString: (gw.database.dataSource.options as { url: string }).url });
    await peer.connect();
    try {
      await peer.query('BEGIN');
      await peer.query('SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE', [hashToken(token)]);
      const served = '7d1c2a4e-8d3b-4c5a-9e7f-1a2b3c4d5e60';
      const body = `token=${encodeURIComponent(token)}`;
      const answer = parseAnswer(
        await rawHttp(
          gw.publicUrl,
          `POST /token/revoke HTTP/1.1\r\nHost: x\r\nx-fapi-interaction-id: ${served}\r\nAuthorization: ${basic('tpp', 'tpp-secret-value')}\r\n` +
            `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
            'POST /token/revoke HTTP/1.1\r\nHost: x\r\nContent-Len',
          { halfClose: false },
        ),
      );
      await peer.query('ROLLBACK');
      if (answer.status === 408) expect(answer.headers['x-fapi-interaction-id']).not.toBe(served);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(lines.filter((l) => l.interaction_id === served && l.status === 408)).toEqual([]);
    } finally {
      await peer.end();
    }
  });
});
