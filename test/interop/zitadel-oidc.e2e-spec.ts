import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';

/**
 * A real third-party client: zitadel/oidc (Go), as a TPP uses it — a relying party built from the
 * gateway's RFC 8414 metadata, then rp.RevokeToken. Its wire habits are the point: with
 * `Authorization: Basic` it also sends an empty `client_id=` (RFC 6749 §3.2: a parameter without
 * a value is omitted), and its client assertions live exactly 60 minutes with `aud` = issuer.
 * The client is built once from ./zitadel-revoke with the Go module proxy (ensure-zitadel-revoke.sh).
 */
describe('interop: zitadel/oidc relying party (Go)', () => {
  let binary: string;
  let keys: string;

  beforeAll(() => {
    binary = execFileSync('bash', [join(__dirname, 'ensure-zitadel-revoke.sh')], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    keys = mkdtempSync(join(tmpdir(), 'zitadel-keys-'));
  }, 600_000);
  afterAll(() => rmSync(keys, { recursive: true, force: true }));

  /** Runs the client; resolves with its exit code and what it printed. */
  const revoke = (args: Record<string, string>) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        binary,
        Object.entries(args).flatMap(([name, value]) => [`-${name}`, value]),
        { timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() }),
      );
    });

  /** A gateway whose issuer is its own public URL: the client checks the metadata's issuer and calls its revocation_endpoint. */
  async function gatewayAt(env: Record<string, string> = {}): Promise<{ gw: TestGateway; issuer: string }> {
    const port = await closedPort();
    const issuer = `http://127.0.0.1:${port}`;
    return { gw: await startTestGateway({ PORT: String(port), ISSUER: issuer, ...env }), issuer };
  }

  const register = async (gw: TestGateway, clientId: string, tokenType = 'access_token') => {
    const token = newToken();
    expect(
      (await gw.admin('POST', '/admin/tokens', { tokens: [{ token, token_type: tokenType, client_id: clientId, grant_id: 'g', expires_at: IN_A_YEAR }] }))
        .status,
    ).toBe(201);
    return token;
  };
  const active = async (gw: TestGateway, token: string) => (await gw.admin('POST', '/admin/tokens/status', { token })).body.active as boolean;

  /** A PEM private key as zitadel reads it, and its public JWK for the client's registration. */
  function keyPair(type: 'rsa' | 'ec') {
    const { privateKey, publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `${type}-${randomUUID().slice(0, 8)}`;
    const path = join(keys, `${kid}.pem`);
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { path, kid, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: type === 'rsa' ? 'RS256' : 'ES256' } };
  }

  describe('rfc7009 route', () => {
    let gw: TestGateway;
    let issuer: string;
    beforeAll(async () => {
      ({ gw, issuer } = await gatewayAt());
      await gw.admin('PUT', '/admin/clients/go-basic', { auth_method: 'client_secret_basic', secret: 'go-basic-secret-value' });
      await gw.admin('PUT', '/admin/clients/go-post', { auth_method: 'client_secret_post', secret: 'go-post-secret-value' });
    });
    afterAll(() => gw.stop());

    it('client_secret_basic (with the empty client_id= it sends alongside): revoked', async () => {
      const token = await register(gw, 'go-basic', 'refresh_token');
      const result = await revoke({ issuer, 'client-id': 'go-basic', secret: 'go-basic-secret-value', token, hint: 'refresh_token', auth: 'basic' });
      expect(result).toEqual({ code: 0, out: 'revoked' });
      expect(await active(gw, token)).toBe(false);
    });

    it('client_secret_post: revoked', async () => {
      const token = await register(gw, 'go-post');
      expect(await revoke({ issuer, 'client-id': 'go-post', secret: 'go-post-secret-value', token, auth: 'post' })).toEqual({ code: 0, out: 'revoked' });
      expect(await active(gw, token)).toBe(false);
    });

    it.each([
      ['RS256', 'rsa'],
      ['ES256', 'ec'],
    ] as const)('private_key_jwt, %s, a 60-minute assertion with aud = issuer: revoked', async (alg, type) => {
      const key = keyPair(type);
      await gw.admin('PUT', `/admin/clients/go-jwt-${alg}`, { auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
      const token = await register(gw, `go-jwt-${alg}`);
      expect(await revoke({ issuer, 'client-id': `go-jwt-${alg}`, token, auth: 'jwt', key: key.path, kid: key.kid })).toEqual({ code: 0, out: 'revoked' });
      expect(await active(gw, token)).toBe(false);
    });

    it('a wrong secret: the library reports the 401, and the token stands', async () => {
      const token = await register(gw, 'go-basic');
      const result = await revoke({ issuer, 'client-id': 'go-basic', secret: 'not-the-secret', token, auth: 'basic' });
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^revoke returned status 401 and text: \{.*"error":"invalid_client"/);
      expect(await active(gw, token)).toBe(true);
    });

    it('another client’s token: the library reports the 400 invalid_request, and the token stands', async () => {
      const token = await register(gw, 'go-post');
      const result = await revoke({ issuer, 'client-id': 'go-basic', secret: 'go-basic-secret-value', token, auth: 'basic' });
      expect(result.code).toBe(1);
      expect(result.out).toMatch(/^revoke returned status 400 and text: \{"error":"invalid_request"/);
      expect(await active(gw, token)).toBe(true);
    });

    it('an unknown token: success (RFC 7009 §2.2)', async () => {
      expect(await revoke({ issuer, 'client-id': 'go-basic', secret: 'go-basic-secret-value', token: newToken(), auth: 'basic' })).toEqual({
        code: 0,
        out: 'revoked',
      });
    });
  });

  // RFC 7009 §2.2: success is 200. The fapi route answers 204, which this library (like any RFC 7009
  // client) reports as a failure; so the metadata of a fapi-only gateway names no revocation endpoint.
  describe('fapi route only (PROFILES=fapi)', () => {
    let gw: TestGateway;
    let issuer: string;
    beforeAll(async () => ({ gw, issuer } = await gatewayAt({ PROFILES: 'fapi' })));
    afterAll(() => gw.stop());

    it('the library finds no revocation endpoint to call, and the token stands', async () => {
      const key = keyPair('ec');
      await gw.admin('PUT', '/admin/clients/go-fapi', { auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
      const token = await register(gw, 'go-fapi');
      const result = await revoke({ issuer, 'client-id': 'go-fapi', token, auth: 'jwt', key: key.path, kid: key.kid });
      expect(result).toEqual({ code: 1, out: expect.stringContaining('RevokeCaller') });
      expect(await active(gw, token)).toBe(true);
    });
  });
});
