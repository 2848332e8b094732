import * as oidc from 'openid-client';
import { IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';

/**
 * A real third-party OAuth client (panva's openid-client, built on oauth4webapi) revoking through
 * the gateway with each method it implements: proof that the wire format is the one clients speak,
 * including RFC 6749 §2.3.1 form-encoding of credentials in the Basic header.
 */
describe('openid-client against POST /token/revoke', () => {
  let gw: TestGateway;
  const secret = 'client:secret with+special/chars%';

  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/lib-basic', { auth_method: 'client_secret_basic', secret });
    await gw.admin('PUT', '/admin/clients/lib-post', { auth_method: 'client_secret_post', secret });
    await gw.admin('PUT', '/admin/clients/lib-public', { auth_method: 'none' });
  });
  afterAll(() => gw.stop());

  function configuration(clientId: string, auth: oidc.ClientAuth): oidc.Configuration {
    const config = new oidc.Configuration({ issuer: 'http://localhost:8080', revocation_endpoint: `${gw.publicUrl}/token/revoke` }, clientId, undefined, auth);
    oidc.allowInsecureRequests(config);
    return config;
  }

  it.each([
    ['client_secret_basic', 'lib-basic', () => oidc.ClientSecretBasic(secret)],
    ['client_secret_post', 'lib-post', () => oidc.ClientSecretPost(secret)],
    ['none', 'lib-public', () => oidc.None()],
  ])('revokes a refresh token with %s', async (_method, clientId, auth) => {
    const token = newToken('rt');
    await gw.admin('POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'refresh_token', client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR }],
    });
    await oidc.tokenRevocation(configuration(clientId, auth()), token, { token_type_hint: 'refresh_token' });
    expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(false);
  });

  it('gets a 401 with the Basic challenge for a wrong secret (RFC 6749 §5.2)', async () => {
    await expect(oidc.tokenRevocation(configuration('lib-basic', oidc.ClientSecretBasic('wrong')), 'x')).rejects.toMatchObject({
      status: 401,
      cause: [{ scheme: 'basic', parameters: { realm: 'revocation' } }],
    });
  });

  it('gets the invalid_client error body when it authenticated in the body', async () => {
    await expect(oidc.tokenRevocation(configuration('lib-post', oidc.ClientSecretPost('wrong')), 'x')).rejects.toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });
});
