import { json, startTestGateway, type TestGateway } from '../support/gateway';

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  describe('default profiles, certificates forwarded by a proxy', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ ISSUER: 'https://rev.bank.example/', MTLS_CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '10.0.0.1' });
    });
    afterAll(() => gw.stop());

    it('describes the rfc7009 endpoint under ISSUER with every method', async () => {
      const response = await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('x-fapi-interaction-id')).toBeTruthy();
      expect(await json(response)).toEqual({
        issuer: 'https://rev.bank.example',
        jwks_uri: 'https://rev.bank.example/jwks.json',
        revocation_endpoint: 'https://rev.bank.example/token/revoke',
        revocation_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
          'none',
        ],
        revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        introspection_endpoint: 'https://rev.bank.example/token/introspect',
        // RFC 7662 §2.1: the introspection endpoint requires authentication, so `none` is never offered.
        introspection_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
        ],
        introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        introspection_signing_alg_values_supported: ['ES256'],
      });
    });

    it('answers 405 to POST', async () => {
      const response = await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`, { method: 'POST' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    });

    it('is not served on the management port', async () => {
      expect((await fetch(`${gw.managementUrl}/.well-known/oauth-authorization-server`)).status).toBe(404);
    });
  });

  describe('introspection alone, no way for a certificate to arrive', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await startTestGateway({ PROFILES: 'fapi,introspect' })));
    afterAll(() => gw.stop());

    it('advertises the introspection endpoint without the mutual TLS methods', async () => {
      expect(await json(await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`))).toEqual({
        issuer: 'http://localhost:8080',
        jwks_uri: 'http://localhost:8080/jwks.json',
        introspection_endpoint: 'http://localhost:8080/token/introspect',
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        introspection_signing_alg_values_supported: ['ES256'],
      });
    });
  });

  describe('fapi only, no way for a certificate to arrive', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await startTestGateway({ PROFILES: 'fapi' })));
    afterAll(() => gw.stop());

    // RFC 8414's revocation_endpoint is an RFC 7009 endpoint (200 on success); the fapi route answers 204.
    it('advertises no revocation or introspection endpoint: rfc7009 and introspect are off, and the fapi route is not one', async () => {
      expect(await json(await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`))).toEqual({
        issuer: 'http://localhost:8080',
        jwks_uri: 'http://localhost:8080/jwks.json',
      });
    });
  });
});
