import { calculateJwkThumbprint, type JWK } from 'jose';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parseCertificateSubject, parseRfc4514, sameDn } from './distinguished-name';

/** A client certificate as the request brought it (RFC 8705 §2). */
export interface PresentedCertificate {
  readonly certificate: X509Certificate;
  /**
   * The chain was verified against a trust anchor: by our TLS listener against TLS_CA_FILE, or by
   * the trusted proxy that forwarded it. tls_client_auth (PKI) needs it; self-signed does not.
   */
  readonly chainVerified: boolean;
}

/** TRUSTED_PROXIES: addresses and CIDR ranges; an IPv4-mapped IPv6 peer matches IPv4 ranges. */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  static isValidEntry(entry: string): boolean {
    const [address, prefix, extra] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || extra !== undefined) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
  }

  includes(address: string | undefined): boolean {
    if (this.empty || !address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.list.check(mapped[1], 'ipv4');
    return this.list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  /** docs/api.md §5: behind a trusted proxy, the right-most untrusted X-Forwarded-For address; else the peer. */
  sourceAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    const self = peer === undefined ? undefined : (normalizeAddress(peer) ?? peer);
    if (!this.includes(peer) || forwardedFor === undefined) return self;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (hop === undefined) return self; // a hop that is no address: the chain is not believed
      if (!this.includes(hop)) return hop;
    }
    return normalizeAddress(hops[0] ?? '') ?? self;
  }
}

/**
 * One spelling per address, so that one client has one budget: proxies' `1.2.3.4:5678` and
 * `[2001:db8::1]:443` lose their port, IPv4-mapped IPv6 becomes IPv4, IPv6 is lower-cased and
 * loses its zone id.
 */
export function normalizeAddress(raw: string): string | undefined {
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address);
  if (bracketed) address = bracketed[1];
  else if (withPort) address = withPort[1];
  // A zone id (`fe80::1%eth0`, RFC 6874) names an interface of the sender, not a host: dropped.
  address = address.split('%', 1)[0];
  if (isIP(address) === 0) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address.toLowerCase();
}

/**
 * The client certificate: from our own TLS handshake, or from MTLS_CLIENT_CERT_HEADER (URL-encoded
 * PEM) when — and only when — the peer is a trusted proxy. A header from anyone else is ignored.
 */
export class ClientCertificates {
  constructor(private readonly source: { header?: string; proxies: TrustedProxies; trustAnchors: boolean }) {}

  presented(request: FastifyRequest): PresentedCertificate | undefined {
    const { header, proxies, trustAnchors } = this.source;
    const socket = request.raw.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerX509Certificate === 'function') {
      const certificate = socket.getPeerX509Certificate();
      // Only TLS_CA_FILE makes a chain count: without it Node would verify against its public roots.
      if (certificate) return { certificate, chainVerified: trustAnchors && socket.authorized === true };
    }
    if (!header || !proxies.includes(socket.remoteAddress)) return undefined;
    const value = request.headers[header];
    if (typeof value !== 'string' || value === '') return undefined;
    try {
      return { certificate: new X509Certificate(decodeURIComponent(value)), chainVerified: true };
    } catch {
      return undefined;
    }
  }
}

export interface TlsClientMetadata {
  readonly tls_client_auth_subject_dn: string | null;
  readonly tls_client_auth_san_dns: string | null;
  readonly tls_client_auth_san_uri: string | null;
  readonly tls_client_auth_san_ip: string | null;
  readonly tls_client_auth_san_email: string | null;
}

/** RFC 8705 §2.1.2: the one registered subject DN or SAN value must be in the certificate. */
export function matchesTlsClientAuth(certificate: X509Certificate, client: TlsClientMetadata): boolean {
  try {
    return matches(certificate, client);
  } catch {
    return false; // a value Node cannot compare (registered before validation existed) matches nothing
  }
}

function matches(certificate: X509Certificate, client: TlsClientMetadata): boolean {
  if (client.tls_client_auth_subject_dn !== null) {
    const registered = parseRfc4514(client.tls_client_auth_subject_dn);
    const actual = parseCertificateSubject(certificate.subject);
    return registered !== undefined && actual !== undefined && sameDn(registered, actual);
  }
  if (client.tls_client_auth_san_dns !== null) {
    return certificate.checkHost(client.tls_client_auth_san_dns, { subject: 'never', wildcards: false }) !== undefined;
  }
  if (client.tls_client_auth_san_uri !== null) return subjectAltNames(certificate, 'URI').includes(client.tls_client_auth_san_uri);
  if (client.tls_client_auth_san_ip !== null) return certificate.checkIP(client.tls_client_auth_san_ip) !== undefined;
  if (client.tls_client_auth_san_email !== null) {
    return certificate.checkEmail(client.tls_client_auth_san_email, { subject: 'never' }) !== undefined;
  }
  return false;
}

/** RFC 8705 §2.2: self-signed — the certificate's public key is one of the client's registered keys. */
export async function matchesSelfSigned(certificate: X509Certificate, keys: readonly JWK[]): Promise<boolean> {
  let presented: string;
  try {
    presented = await calculateJwkThumbprint(certificate.publicKey.export({ format: 'jwk' }));
  } catch {
    return false; // a key type JWK cannot express (e.g. RSA-PSS) cannot be a registered key
  }
  for (const key of keys) {
    try {
      if ((await calculateJwkThumbprint(key)) === presented) return true;
    } catch {
      // a key the thumbprint cannot be computed for cannot match
    }
  }
  return false;
}

/** Values of one SAN type; Node quotes (JSON) any value that contains a separator. */
function subjectAltNames(certificate: X509Certificate, type: string): string[] {
  const names = certificate.subjectAltName ?? '';
  const pattern = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  const values: string[] = [];
  for (const match of names.matchAll(pattern)) {
    if (match[1] !== type) continue;
    values.push(match[2].startsWith('"') ? (JSON.parse(match[2]) as string) : match[2]);
  }
  return values;
}
