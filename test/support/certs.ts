import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';

export interface Issued {
  readonly cert: string; // PEM
  readonly key: string; // PEM
  readonly certFile: string;
  readonly keyFile: string;
  readonly jwk: JWK; // public key
}

/**
 * Real certificates made with the openssl command line in a temp folder: a CA, certificates it
 * signs (with the subject and SANs a test needs), self-signed ones, and the gateway's server cert.
 */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'revgw-pki-'));
  readonly ca: Issued;

  constructor(caName = 'Test Root CA') {
    this.ca = this.selfSigned('ca', `/C=GB/O=Test PKI/CN=${caName}`, ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
  }

  /** A certificate signed by this CA. `san` as openssl writes it: "DNS:x,URI:y,IP:1.2.3.4,email:a@b". */
  issue(name: string, subject: string, san?: string): Issued {
    const key = this.file(`${name}.key`);
    this.openssl(
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      this.file(`${name}.csr`),
      '-subj',
      subject,
    );
    const ext = this.file(`${name}.ext`);
    writeFileSync(ext, [san ? `subjectAltName=${san}` : '', 'basicConstraints=CA:FALSE'].filter(Boolean).join('\n') + '\n');
    this.openssl(
      'x509',
      '-req',
      '-in',
      this.file(`${name}.csr`),
      '-CA',
      this.ca.certFile,
      '-CAkey',
      this.ca.keyFile,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      this.file(`${name}.pem`),
      '-extfile',
      ext,
    );
    return this.read(name);
  }

  /** A self-signed certificate with its own fresh key (P-256 unless `newkey` says otherwise). */
  selfSigned(name: string, subject: string, extensions: string[] = [], newkey = ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']): Issued {
    this.openssl(
      'req',
      '-x509',
      '-newkey',
      ...newkey,
      '-nodes',
      '-days',
      '2',
      '-keyout',
      this.file(`${name}.key`),
      '-out',
      this.file(`${name}.pem`),
      '-subj',
      subject,
      ...extensions.flatMap((extension) => ['-addext', extension]),
    );
    return this.read(name);
  }

  private read(name: string): Issued {
    const certFile = this.file(`${name}.pem`);
    const keyFile = this.file(`${name}.key`);
    const cert = readFileSync(certFile, 'utf8');
    let jwk: JWK = {};
    try {
      jwk = new X509Certificate(cert).publicKey.export({ format: 'jwk' }) as JWK;
    } catch {
      // key types JWK cannot express (RSA-PSS) have none
    }
    return { cert, key: readFileSync(keyFile, 'utf8'), certFile, keyFile, jwk };
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: 'pipe' });
  }
}
