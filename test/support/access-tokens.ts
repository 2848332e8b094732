import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { JwksServer, signingKey, type SigningKey } from './keys';

/** An authorization server that issues JWT access tokens (RFC 9068) and publishes its keys on loopback. */
export class AccessTokenIssuer {
  readonly jwks = new JwksServer();
  readonly keys = new Map<string, SigningKey>();
  /** The EdDSA key, kept as a node:crypto KeyObject: its tokens are signed without jose. */
  private ed25519?: { kid: string; key: KeyObject };

  constructor(readonly issuer: string) {}

  async start(): Promise<this> {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) this.keys.set(alg, await signingKey(alg));
    const ed = this.keys.get('EdDSA')!;
    // The same key, exported and re-imported into node:crypto: an independent signer for one algorithm.
    const { exportJWK } = await import('jose');
    this.ed25519 = { kid: ed.kid, key: createPrivateKey({ key: (await exportJWK(ed.privateKey)) as never, format: 'jwk' }) };
    this.jwks.keys = [...this.keys.values()].map((key) => key.publicJwk);
    await this.jwks.start();
    return this;
  }

  stop(): Promise<void> {
    return this.jwks.stop();
  }

  /** Claims a well-formed access token of this issuer has; each can be overridden or removed (undefined). */
  claims(clientId: string, claims: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'psu-1',
      aud: 'https://api.bank.example',
      client_id: clientId,
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
      scope: 'accounts',
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return payload;
  }

  /** A JWT access token signed with jose (RS256, PS256, ES256), or by node:crypto alone (EdDSA). */
  async mint(clientId: string, claims: Record<string, unknown> = {}, { alg = 'PS256', header = {} as Record<string, unknown> } = {}): Promise<string> {
    const payload = this.claims(clientId, claims);
    if (alg === 'EdDSA') return this.signEd25519({ alg, kid: this.ed25519!.kid, typ: 'at+jwt', ...header }, payload);
    const key = this.keys.get(alg)!;
    return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
  }

  /** RFC 7515 §5.1 by hand: base64url(header) . base64url(payload), signed with Ed25519. */
  signEd25519(header: Record<string, unknown>, payload: Record<string, unknown>): string {
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
    return `${input}.${sign(null, Buffer.from(input), this.ed25519!.key).toString('base64url')}`;
  }
}

export const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64url');
