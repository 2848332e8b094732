import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { basic, IN_A_YEAR, newToken, type TestGateway } from '../support/gateway';
import { TestPki } from '../support/certs';
import { Nginx } from '../support/nginx';
import { startProxiedGateway, type ProxiedGateway } from '../support/proxied-gateway';
import type { TcpProxy } from '../support/tcp-proxy';

const CHECK_TOKEN = 'nginx-caller-secret-0123456789';

/**
 * docs/api.md §11.5 and operations.md: a real NGINX (`auth_request` to /authz/check, the working
 * configuration the docs give) in front of a small API. An active token passes with the credential
 * headers set by NGINX from the check's answer; the very next request after a revocation is a 401;
 * with the database gone, NGINX denies (the check's 503 is an error to auth_request: a 500).
 */
describe('NGINX auth_request in front of an API', () => {
  let gw: TestGateway;
  let nginx: Nginx;
  let api: Server;
  let proxy: TcpProxy;
  let proxied: ProxiedGateway;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    // NGINX is a trusted proxy that forwards certificates: what it lets through is believed.
    proxied = await startProxiedGateway({ AUTHZ_CHECK_TOKEN: CHECK_TOKEN, MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '127.0.0.1' });
    ({ gw, proxy } = proxied);
    await gw.admin('PUT', '/admin/clients/tpp', { auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    api = createServer((request, response) => {
      seen.push(request.headers);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ path: request.url }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const apiPort = (api.address() as { port: number }).port;
    const check = new URL(gw.managementUrl);
    nginx = await Nginx.start(
      (listen) => `
  server {
    listen ${listen};
    location = /__nginx_up { return 204; }
    # The check: the original path appended, no body, the shared secret of AUTHZ_CHECK_TOKEN.
    location = /_revgw_check {
      internal;
      proxy_pass http://${check.host}/authz/check$request_uri;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Authz-Check-Token "${CHECK_TOKEN}";
      # Always set, never the client's: the certificate NGINX verified ($ssl_client_escaped_cert
      # with TLS; empty here, where there is none) and the tenant this API belongs to (empty: default).
      proxy_set_header X-SSL-Client-Cert "";
      proxy_set_header Tenant-ID "";
    }
    location / {
      auth_request /_revgw_check;
      auth_request_set $revgw_client_id $upstream_http_x_credential_client_id;
      auth_request_set $revgw_sub $upstream_http_x_credential_sub;
      auth_request_set $revgw_scope $upstream_http_x_credential_scope;
      auth_request_set $revgw_consent_id $upstream_http_x_credential_consent_id;
      # Set (or, when empty, removed) whatever the client sent: only the check's answer reaches the API.
      proxy_set_header X-Credential-Client-Id $revgw_client_id;
      proxy_set_header X-Credential-Sub $revgw_sub;
      proxy_set_header X-Credential-Scope $revgw_scope;
      proxy_set_header X-Credential-Consent-Id $revgw_consent_id;
      proxy_pass http://127.0.0.1:${apiPort};
    }
  }`,
    );
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => api?.close(resolve));
    await proxied?.stop();
  });

  async function register(entry: Record<string, unknown> = {}): Promise<string> {
    const token = newToken();
    const tokens = [{ token, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR, ...entry }];
    expect((await gw.admin('POST', '/admin/tokens', { tokens })).status).toBe(201);
    return token;
  }

  const call = (headers: Record<string, string>, path = '/accounts/42?page=1') => fetch(nginx.url + path, { headers });

  it('an active token reaches the API with the credentials NGINX took from the check; a forged header does not', async () => {
    const token = await register({ subject: 'psu-7', scope: 'accounts', consent_id: 'c-7' });
    const before = seen.length;
    const response = await call({ authorization: `Bearer ${token}`, 'x-credential-client-id': 'forged', 'x-credential-sub': 'admin' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: '/accounts/42?page=1' });
    expect(seen.slice(before)).toHaveLength(1);
    expect(seen[before]).toMatchObject({
      'x-credential-client-id': 'tpp',
      'x-credential-sub': 'psu-7',
      'x-credential-scope': 'accounts',
      'x-credential-consent-id': 'c-7',
    });
  });

  it('a client cannot bring its own certificate or tenant: NGINX sets both, so a forged one changes nothing', async () => {
    const device = new TestPki().issue('device', '/CN=device');
    const x5t = createHash('sha256').update(new X509Certificate(device.cert).raw).digest('base64url');
    const bound = await register({ cnf: { 'x5t#S256': x5t } });
    const forged = await call({ authorization: `Bearer ${bound}`, 'x-ssl-client-cert': encodeURIComponent(device.cert) });
    expect(forged.status).toBe(401);
    // The same header straight to the check, from the trusted address, would have been believed:
    // the configuration is what stops it.
    const direct = await fetch(`${gw.managementUrl}/authz/check`, {
      headers: { authorization: `Bearer ${bound}`, 'x-ssl-client-cert': encodeURIComponent(device.cert), 'x-authz-check-token': CHECK_TOKEN },
    });
    expect(direct.status).toBe(200);
    await gw.admin('PUT', '/admin/tenants/bank-b', {});
    await gw.admin('PUT', '/admin/clients/tpp', { tenant: 'bank-b', auth_method: 'client_secret_basic', secret: 'tpp-secret-value' });
    const other = newToken();
    const tokens = [{ token: other, token_type: 'access_token', client_id: 'tpp', grant_id: 'g', expires_at: IN_A_YEAR }];
    expect((await gw.admin('POST', '/admin/tokens', { tenant: 'bank-b', tokens })).status).toBe(201);
    expect((await call({ authorization: `Bearer ${other}`, 'tenant-id': 'bank-b' })).status).toBe(401);
  });

  it('no token, or an unknown one: 401 with the RFC 6750 challenge, and the API never sees the request', async () => {
    const before = seen.length;
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${newToken()}` },
      { authorization: `Bearer ${newToken()}`, 'x-credential-client-id': 'tpp' },
    ];
    for (const headers of attempts) {
      const response = await call(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    expect(seen.length).toBe(before);
  });

  it('the very next request after a revocation is a 401', async () => {
    const token = await register();
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
    const revoked = await gw.post('/token/revoke', { token }, { authorization: basic('tpp', 'tpp-secret-value') });
    expect(revoked.status).toBe(200);
    const before = seen.length;
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(401);
    expect(seen.length).toBe(before);
  });

  it('with the database gone, NGINX denies (the check fails closed), and lets the token by again once it is back', async () => {
    const token = await register();
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
    await proxy.refuse();
    const before = seen.length;
    try {
      const response = await call({ authorization: `Bearer ${token}` });
      // auth_request: any answer of the check but 2xx, 401 and 403 is an error, and NGINX answers 500.
      expect(response.status).toBe(500);
      expect(seen.length).toBe(before);
    } finally {
      await proxy.restore();
    }
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
  });
});
