import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { request } from 'undici';

/** Bounds on a client's jwks_uri: a TPP's key server must not be able to slow or flood us. */
export const JWKS_FETCH_TIMEOUT_MS = 2000;
export const JWKS_MAX_BYTES = 64 * 1024;
/** Without Cache-Control, keys are kept this long. */
const DEFAULT_MAX_AGE_S = 300;
const MAX_MAX_AGE_S = 24 * 3600;
/** An unknown `kid` refetches the set, at most once a minute per URI (key rotation, not a DoS lever). */
const REFETCH_INTERVAL_MS = 60_000;
/** After a failed fetch, the failure is the answer for this long: a key server that is down is not asked once per request. */
export const FAILED_FETCH_HOLD_MS = 1000;

/**
 * RFC 7517 §6.2, §6.3 and §6.4: the members only a private (RSA, EC, OKP) or symmetric (`oct`)
 * key has. A client's `jwks` holds its public keys (RFC 7591 §2); a key with any of these is
 * refused at registration and ignored in a fetched set (whoever published it has lost it).
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

export function privateKeyMembers(key: object): string[] {
  return PRIVATE_MEMBERS.filter((member) => Object.hasOwn(key, member));
}

/**
 * Where in `value` (a registered JWK Set, any depth: a key's own extra members, the set's other
 * members) an object carries private or symmetric key material, as `jwks.keys[1]` paths.
 */
export function privateKeyMaterial(value: unknown, path: string): Array<{ path: string; members: string[] }> {
  if (typeof value !== 'object' || value === null) return [];
  const here = Array.isArray(value) ? [] : privateKeyMembers(value);
  const found = here.length > 0 ? [{ path, members: here }] : [];
  for (const [name, member] of Object.entries(value)) {
    found.push(...privateKeyMaterial(member, Array.isArray(value) ? `${path}[${name}]` : `${path}.${name}`));
  }
  return found;
}

export interface ClientKeys {
  readonly tenant: string;
  readonly clientId: string;
  readonly jwks: JSONWebKeySet | null;
  readonly jwksUri: string | null;
}

/**
 * Verification keys per client: the registered `jwks` (parsed once per registration) or the
 * `jwks_uri` (fetched with undici, cached as its Cache-Control says, shared by every client that
 * names the same URI).
 */
export class KeySets {
  private readonly local = new Map<string, { source: string; keys: JWTVerifyGetKey }>();
  private readonly remote = new Map<string, RemoteKeySet>();

  /** The client's keys as a JWK Set (self-signed certificates are matched against it). */
  async jwksFor(client: ClientKeys): Promise<readonly JWK[]> {
    if (!client.jwksUri) return client.jwks?.keys ?? [];
    return this.remoteSet(client.jwksUri).keyList();
  }

  forClient(client: ClientKeys): JWTVerifyGetKey {
    if (client.jwksUri) return this.remoteSet(client.jwksUri).getKey;
    const key = `${client.tenant}\u0000${client.clientId}`;
    const source = JSON.stringify(client.jwks ?? { keys: [] });
    const cached = this.local.get(key);
    if (cached?.source === source) return cached.keys;
    const keys = localKeySet(client.jwks ?? { keys: [] });
    this.local.set(key, { source, keys });
    return keys;
  }

  /** The keys published at a URI (an authorization server's access-token keys, docs/api.md §11.3). */
  forUri(uri: string): JWTVerifyGetKey {
    return this.remoteSet(uri).getKey;
  }

  /** When the set at a URI was last fetched (ms since the epoch; 0 never). */
  fetchedAt(uri: string): number {
    return this.remoteSet(uri).lastFetch;
  }

  /** Fetches the set at a URI again, unless that was done less than `minIntervalMs` ago; whether it did. */
  async refetch(uri: string, minIntervalMs: number): Promise<boolean> {
    return this.remoteSet(uri).refetch(minIntervalMs);
  }

  private remoteSet(uri: string): RemoteKeySet {
    let set = this.remote.get(uri);
    if (!set) this.remote.set(uri, (set = new RemoteKeySet(uri)));
    return set;
  }
}

class RemoteKeySet {
  private keys?: JWTVerifyGetKey;
  private set?: JSONWebKeySet;
  private expiresAt = 0;
  private fetchedAt = 0;
  private inflight?: Promise<void>;
  private failure?: { at: number; error: Error };

  constructor(private readonly uri: string) {}

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys || Date.now() >= this.expiresAt) await this.refresh();
    try {
      return await this.keys!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - this.fetchedAt < REFETCH_INTERVAL_MS) throw error;
      await this.refresh();
      return this.keys!(header, token);
    }
  };

  get lastFetch(): number {
    return this.fetchedAt;
  }

  async refetch(minIntervalMs: number): Promise<boolean> {
    if (Date.now() - this.fetchedAt < minIntervalMs) return false;
    await this.refresh();
    return true;
  }

  async keyList(): Promise<readonly JWK[]> {
    if (!this.set || Date.now() >= this.expiresAt) await this.refresh();
    return this.set!.keys;
  }

  private refresh(): Promise<void> {
    if (this.failure && Date.now() - this.failure.at < FAILED_FETCH_HOLD_MS) return Promise.reject(this.failure.error);
    this.inflight ??= this.fetch()
      .then(
        () => (this.failure = undefined),
        (error: unknown) => {
          this.failure = { at: Date.now(), error: error instanceof Error ? error : new errors.JWKSInvalid(String(error)) };
          throw error;
        },
      )
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    this.fetchedAt = Date.now();
    const response = await request(this.uri, {
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      headersTimeout: JWKS_FETCH_TIMEOUT_MS,
      bodyTimeout: JWKS_FETCH_TIMEOUT_MS,
      signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new errors.JWKSInvalid(`jwks_uri answered ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > JWKS_MAX_BYTES) {
        response.body.destroy();
        throw new errors.JWKSInvalid(`jwks_uri response exceeds ${JWKS_MAX_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    let set: unknown;
    try {
      set = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new errors.JWKSInvalid('jwks_uri did not return JSON');
    }
    if (typeof set !== 'object' || set === null || !Array.isArray((set as JSONWebKeySet).keys)) {
      throw new errors.JWKSInvalid('jwks_uri did not return a JWK Set');
    }
    const keys = (set as JSONWebKeySet).keys.filter((key) => typeof key === 'object' && key !== null && privateKeyMembers(key).length === 0);
    this.set = { keys };
    this.keys = createLocalJWKSet(this.set);
    this.expiresAt = Date.now() + maxAge(response.headers['cache-control']) * 1000;
  }
}

/** A registered set jose refuses (possible for clients registered before validation) verifies nothing. */
function localKeySet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    return () => Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Seconds the response may be reused: `max-age`, 0 for no-store/no-cache, else a default. */
export function maxAge(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(value)) return 0;
  const match = /(^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(,|$)/i.exec(value);
  return match ? Math.min(Number(match[2]), MAX_MAX_AGE_S) : DEFAULT_MAX_AGE_S;
}
