import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'http://localhost:8080';

export interface SigningKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** A fresh key pair for a JWS algorithm, with its public JWK (kid, alg, use=sig). */
export async function signingKey(alg: string, kid = `${alg}-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A client assertion (RFC 7523) as a TPP would build it; every claim can be overridden or removed (undefined). */
export async function clientAssertion(
  key: SigningKey,
  clientId: string,
  claims: Partial<Record<keyof JWTPayload | string, unknown>> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: clientId, sub: clientId, aud: ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

export function assertionForm(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, ...extra };
}

/** A TPP's jwks_uri on loopback: serves whatever keys it is given, counts fetches. */
export class JwksServer {
  keys: JWK[] = [];
  cacheControl = 'max-age=300';
  status = 200;
  fetches = 0;
  /** Bytes of filler in the set (an oversized answer). */
  padding = 0;
  /** Answer this late. */
  delayMs = 0;
  /** Send the body one byte at a time, this many ms apart. */
  dripMs = 0;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_request, response) => {
      this.fetches++;
      const body = JSON.stringify({ keys: this.keys, ...(this.padding ? { padding: 'x'.repeat(this.padding) } : {}) });
      const answer = () => {
        if (response.destroyed) return;
        response.writeHead(this.status, { 'content-type': 'application/json', 'cache-control': this.cacheControl });
        if (!this.dripMs) return void response.end(body);
        let sent = 0;
        const drip = setInterval(
          () => (response.destroyed || sent >= body.length ? (clearInterval(drip), response.end()) : response.write(body[sent++])),
          this.dripMs,
        );
        response.on('close', () => clearInterval(drip));
      };
      if (this.delayMs) setTimeout(answer, this.delayMs).unref();
      else answer();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
