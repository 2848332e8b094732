import { Agent, fetch as undiciFetch } from 'undici';
import { IN_A_YEAR, json, newToken, startTestGateway, type TestGateway } from '../support/gateway';
import { TestPki, type Issued } from '../support/certs';

const SUBJECT = '/C=GB/O=TPP Ltd/OU=0015800001041REAAY/CN=tpp.example';
const SUBJECT_DN = 'CN=tpp.example,OU=0015800001041REAAY,O=TPP Ltd,C=GB';
const SAN = 'DNS:tpp.example,URI:https://tpp.example/software/1,IP:10.1.2.3,email:ops@tpp.example';

/** RFC 8705 client authentication: tls_client_auth (PKI) and self_signed_tls_client_auth. */
describe('mutual-TLS client authentication', () => {
  const pki = new TestPki();
  const rogue = new TestPki('Rogue CA');
  let tpp: Issued;
  let otherTpp: Issued;
  let rogueTpp: Issued;
  let selfSigned: Issued;

  beforeAll(() => {
    tpp = pki.issue('tpp', SUBJECT, SAN);
    otherTpp = pki.issue('other', '/C=GB/O=Other Ltd/CN=other.example', 'DNS:other.example');
    rogueTpp = rogue.issue('tpp', SUBJECT, SAN); // same subject, untrusted issuer
    selfSigned = pki.selfSigned('self', '/CN=self-signed-tpp');
  });

  async function registerClients(gw: TestGateway) {
    const clients: Record<string, object> = {
      'dn-app': { auth_method: 'tls_client_auth', tls_client_auth_subject_dn: SUBJECT_DN },
      'dns-app': { auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'tpp.example' },
      'uri-app': { auth_method: 'tls_client_auth', tls_client_auth_san_uri: 'https://tpp.example/software/1' },
      'ip-app': { auth_method: 'tls_client_auth', tls_client_auth_san_ip: '10.1.2.3' },
      'email-app': { auth_method: 'tls_client_auth', tls_client_auth_san_email: 'ops@tpp.example' },
      'self-app': { auth_method: 'self_signed_tls_client_auth', jwks: { keys: [selfSigned.jwk] } },
    };
    for (const [clientId, body] of Object.entries(clients)) expect((await gw.admin('PUT', `/admin/clients/${clientId}`, body)).status).toBe(201);
  }

  async function tokenOf(gw: TestGateway, clientId: string): Promise<string> {
    const token = newToken();
    await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: 'access_token', client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR }] });
    return token;
  }

  describe('certificate forwarded by a trusted proxy (MTLS_CLIENT_CERT_HEADER)', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ MTLS_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert', TRUSTED_PROXIES: '10.0.0.0/8,127.0.0.1' });
      await registerClients(gw);
    });
    afterAll(() => gw.stop());

    const withCert = (issued: Issued) => ({ 'x-ssl-client-cert': encodeURIComponent(issued.cert) });

    it.each(['dn-app', 'dns-app', 'uri-app', 'ip-app', 'email-app'])('tls_client_auth %s: the registered subject or SAN matches → 204', async (clientId) => {
      const token = await tokenOf(gw, clientId);
      const response = await gw.post('/token/revocation', { token, client_id: clientId }, withCert(tpp));
      expect(response.status).toBe(204);
    });

    it('self_signed_tls_client_auth: the certificate key is registered → 204, also on /token/revoke', async () => {
      expect((await gw.post('/token/revocation', { token: await tokenOf(gw, 'self-app'), client_id: 'self-app' }, withCert(selfSigned))).status).toBe(204);
      expect((await gw.post('/token/revoke', { token: await tokenOf(gw, 'self-app'), client_id: 'self-app' }, withCert(selfSigned))).status).toBe(200);
    });

    it.each([
      ['a certificate with another subject (DN mismatch)', 'dn-app', () => withCert(otherTpp)],
      ['a certificate without the registered SAN', 'dns-app', () => withCert(otherTpp)],
      ['no certificate', 'dn-app', () => ({})],
      ['a self-signed certificate whose key is not registered', 'self-app', () => withCert(tpp)],
      ['a header that is not a certificate', 'dn-app', () => ({ 'x-ssl-client-cert': 'not%20a%20certificate' })],
      [
        'a self-signed RSA-PSS certificate (no JWK form)',
        'self-app',
        () => withCert(pki.selfSigned('pss', '/CN=pss', [], ['rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'])),
      ],
    ])('refuses %s: 401', async (_name, clientId, headers) => {
      const response = await gw.post('/token/revocation', { token: 'x', client_id: clientId }, headers());
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual({ errors: ['client authentication failed'] });
    });

    it('does not let a certificate stand in for a client registered with a secret', async () => {
      await gw.admin('PUT', '/admin/clients/secret-app', { auth_method: 'client_secret_post', secret: 'secret-app-secret' });
      expect((await gw.post('/token/revoke', { token: 'x', client_id: 'secret-app' }, withCert(tpp))).status).toBe(401);
    });
  });

  describe('certificate header from an untrusted peer', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '10.0.0.0/8' });
      await registerClients(gw);
    });
    afterAll(() => gw.stop());

    it('is ignored: the client has no certificate → 401', async () => {
      const response = await gw.post('/token/revocation', { token: 'x', client_id: 'dn-app' }, { 'x-ssl-client-cert': encodeURIComponent(tpp.cert) });
      expect(response.status).toBe(401);
    });
  });

  describe('native TLS (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE)', () => {
    let gw: TestGateway;
    let server: Issued;
    beforeAll(async () => {
      server = pki.issue('server', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1');
      gw = await startTestGateway({ TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, TLS_CA_FILE: pki.ca.certFile });
      await registerClients(gw);
    });
    afterAll(() => gw.stop());

    async function post(path: string, form: Record<string, string>, client?: Issued) {
      const dispatcher = new Agent({ connect: { ca: pki.ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) } });
      try {
        const response = await undiciFetch(gw.publicUrl + path, {
          method: 'POST',
          body: new URLSearchParams(form).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          dispatcher,
        });
        return { status: response.status, body: await response.text() };
      } finally {
        await dispatcher.close();
      }
    }

    it('serves HTTPS', () => {
      expect(gw.publicUrl).toMatch(/^https:/);
    });

    it('tls_client_auth with a certificate from the trusted CA → 204', async () => {
      expect((await post('/token/revocation', { token: await tokenOf(gw, 'dn-app'), client_id: 'dn-app' }, tpp)).status).toBe(204);
    });

    it('self_signed_tls_client_auth over the handshake → 204', async () => {
      expect((await post('/token/revocation', { token: await tokenOf(gw, 'self-app'), client_id: 'self-app' }, selfSigned)).status).toBe(204);
    });

    it.each([
      ['the same subject from an untrusted CA', () => rogueTpp],
      ['a self-signed certificate', () => selfSigned],
      ['no certificate', () => undefined],
    ])('refuses tls_client_auth with %s: 401', async (_name, client) => {
      const response = await post('/token/revocation', { token: 'x', client_id: 'dn-app' }, client());
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body)).toEqual({ errors: ['client authentication failed'] });
    });

    it('ignores a certificate header sent straight to the TLS listener', async () => {
      const dispatcher = new Agent({ connect: { ca: pki.ca.cert } });
      const response = await undiciFetch(`${gw.publicUrl}/token/revocation`, {
        method: 'POST',
        body: 'token=x&client_id=dn-app',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-ssl-client-cert': encodeURIComponent(tpp.cert) },
        dispatcher,
      });
      expect(response.status).toBe(401);
      await dispatcher.close();
    });
  });
});
