import { randomUUID } from 'node:crypto';
import { basic, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';

/** docs/api.md §10: /metrics on the management port, every series declared at start. */
describe('GET /metrics (management port)', () => {
  let gw: TestGateway;
  const asApp = { authorization: basic('app', 'app-secret-value') };

  beforeAll(async () => {
    gw = await startTestGateway({ THROTTLE_CLIENT_LIMIT: '1000' });
  });
  afterAll(() => gw.stop());

  const scrape = async () => {
    const response = await fetch(`${gw.managementUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('declares every contract metric before any traffic, with Node process metrics', async () => {
    const text = await scrape();
    for (const [name, type] of [
      ['revgw_http_requests_total', 'counter'],
      ['revgw_http_request_duration_seconds', 'histogram'],
      ['revgw_tokens_revoked_total', 'counter'],
      ['revgw_upstream_requests_total', 'counter'],
      ['revgw_throttled_requests_total', 'counter'],
      ['revgw_client_auth_failures_total', 'counter'],
      ['revgw_fapi_header_rejections_total', 'counter'],
      ['revgw_outbox_pending', 'gauge'],
      ['revgw_introspections_total', 'counter'],
      ['revgw_authz_checks_total', 'counter'],
      ['revgw_set_deliveries_total', 'counter'],
      ['revgw_set_pending', 'gauge'],
      ['revgw_set_delivery_lag_seconds', 'histogram'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
    }
    expect(value(text, 'revgw_throttled_requests_total{scope="ip"}')).toBe(0);
    expect(value(text, 'revgw_client_auth_failures_total{method="client_secret_basic"}')).toBe(0);
    expect(value(text, 'revgw_outbox_pending')).toBe(0);
    expect(value(text, 'revgw_set_pending')).toBe(0);
  });

  it('counts requests by profile and numeric status, times them, and counts revoked tokens by cause', async () => {
    await gw.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'app-secret-value' });
    const rt = newToken('rt');
    const at = newToken('at');
    await gw.admin('POST', '/admin/tokens', {
      tokens: [
        { token: rt, token_type: 'refresh_token', client_id: 'app', grant_id: 'g', expires_at: IN_A_YEAR },
        { token: at, token_type: 'access_token', client_id: 'app', grant_id: 'g', refresh_token: rt, expires_at: IN_A_YEAR },
      ],
    });
    expect((await gw.post('/token/revoke', { token: rt }, asApp)).status).toBe(200);
    expect((await gw.post('/token/revoke', { token: rt }, asApp)).status).toBe(200); // already revoked: counts nothing
    expect((await gw.post('/token/revoke', { token: 'x' }, { authorization: basic('app', 'wrong') })).status).toBe(401);
    expect((await gw.post('/token/revocation', { token: 'x' }, { 'x-fapi-auth-date': 'soon' })).status).toBe(400);
    expect((await gw.post('/token/revoke', { token: 'x' }, { 'x-fapi-interaction-id': 'not-a-uuid' })).status).toBe(400);
    expect((await fetch(`${gw.publicUrl}/no/such/${randomUUID()}`)).status).toBe(404);
    const admin = await gw.admin('POST', '/admin/revocations', { client_id: 'app' });
    expect(admin.body).toEqual({ revoked: 0 });

    const text = await scrape();
    expect(value(text, 'revgw_http_requests_total{profile="rfc7009",status="200"}')).toBe(2);
    expect(value(text, 'revgw_http_requests_total{profile="rfc7009",status="401"}')).toBe(1);
    expect(value(text, 'revgw_http_requests_total{profile="rfc7009",status="400"}')).toBe(1);
    expect(value(text, 'revgw_http_requests_total{profile="fapi",status="400"}')).toBe(1);
    // Random paths share one label: a path scan cannot grow the series.
    expect(value(text, 'revgw_http_requests_total{profile="other",status="404"}')).toBe(1);
    expect(text).not.toContain('/no/such/');
    expect(value(text, 'revgw_http_request_duration_seconds_count{profile="rfc7009"}')).toBe(4);
    expect(value(text, 'revgw_tokens_revoked_total{token_type="refresh_token",cause="requested"}')).toBe(1);
    expect(value(text, 'revgw_tokens_revoked_total{token_type="access_token",cause="cascade"}')).toBe(1);
    expect(value(text, 'revgw_client_auth_failures_total{method="client_secret_basic"}')).toBe(1);
    expect(value(text, 'revgw_fapi_header_rejections_total{header="x-fapi-auth-date"}')).toBe(1);
    expect(value(text, 'revgw_fapi_header_rejections_total{header="x-fapi-interaction-id"}')).toBe(1);
    // The management port's own traffic is not in the public API's series.
    expect(text).not.toMatch(/revgw_http_requests_total\{profile="admin"/);
  });

  it('counts admin bulk revocations under cause="admin"', async () => {
    const token = newToken('at');
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: 'app', grant_id: 'g2', subject: 'psu-9', expires_at: IN_A_YEAR }],
    });
    expect((await gw.admin('POST', '/admin/revocations', { subject: 'psu-9' })).body).toEqual({ revoked: 1 });
    expect(value(await scrape(), 'revgw_tokens_revoked_total{token_type="access_token",cause="admin"}')).toBe(1);
  });

  it('is not on the public port', async () => {
    expect((await fetch(`${gw.publicUrl}/metrics`)).status).toBe(404);
  });
});
