import { execFile } from 'node:child_process';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Verifies a compact JWS with the `openssl` command line, not with jose (which the gateway signs
 * with): the JWK becomes a PEM through node:crypto, and OpenSSL checks the signature over the
 * signing input (RFC 7515 §5.2) by the header's `alg`. ES256's raw r‖s (RFC 7518 §3.4) is turned
 * into the DER SEQUENCE OpenSSL expects; EdDSA (RFC 8037 §3.1) signs the input itself (`-rawin`).
 */
export async function verifyWithOpenSsl(jws: string, publicJwk: JsonWebKey): Promise<boolean> {
  const [header, payload, signature, ...rest] = jws.split('.');
  if (rest.length > 0 || signature === undefined) return false;
  const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg: string };
  const raw = Buffer.from(signature, 'base64url');
  const dir = await mkdtemp(join(tmpdir(), 'verify-jws-'));
  try {
    const files = { key: join(dir, 'key.pem'), input: join(dir, 'input'), signature: join(dir, 'signature') };
    await writeFile(files.key, createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
    await writeFile(files.input, `${header}.${payload}`);
    await writeFile(files.signature, alg === 'ES256' ? derOfRawEcdsa(raw) : raw);
    const dgst = ['dgst', '-sha256', '-verify', files.key, '-signature', files.signature];
    const args: Record<string, string[]> = {
      RS256: [...dgst, files.input],
      PS256: [...dgst, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', files.input],
      ES256: [...dgst, files.input],
      EdDSA: ['pkeyutl', '-verify', '-pubin', '-inkey', files.key, '-rawin', '-in', files.input, '-sigfile', files.signature],
    };
    if (!args[alg]) throw new Error(`verifyWithOpenSsl: no OpenSSL command for alg ${alg}`);
    return await new Promise((resolve) => execFile('openssl', args[alg], (error) => resolve(error === null)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3), from the JWS's r‖s. */
function derOfRawEcdsa(raw: Buffer): Buffer {
  const integer = (bytes: Buffer) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const value = bytes.subarray(i);
    const padded = value[0] & 0x80 ? Buffer.concat([Buffer.of(0), value]) : value;
    return Buffer.concat([Buffer.of(0x02, padded.length), padded]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, raw.length / 2)), integer(raw.subarray(raw.length / 2))]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}
