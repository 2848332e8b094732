import type { RegisteredToken } from './token-lookup';

/** What the cache did for a lookup (revgw_token_status_lookups_total). */
export type CacheResult = 'hit' | 'miss' | 'bypass';

/**
 * Registered tokens as introspection and the check last read them (docs/api.md §11.6), so that
 * the hot path is a map lookup. It is bounded in entries (the oldest goes first), keeps an entry
 * at most `ttlMs` and never past the token's expiry, and is only as good as what tells it about
 * revocations:
 *
 * - this process's own revocations forget their tenant's entries once they commit
 *   (`forgetTenant`), before their answer is sent;
 * - every replica's revocations arrive from PostgreSQL as they commit (StatusFeed, NOTIFY) and
 *   forget exactly the tokens revoked (`forgetTokens`), or the tenant after a large one;
 * - while that feed is down (`trusted` false) nothing is answered from memory and nothing is
 *   kept, and when it comes back everything is forgotten, since what it missed is unknown.
 *
 * Unknown tokens are not kept: a token registered a moment later must be known at once.
 */
export class TokenStatusCache {
  private readonly entries = new Map<string, { token: RegisteredToken; tenantEpoch: number; ruleEpoch: number; until: number }>();
  private readonly tenantEpochs = new Map<string, number>();
  /** Moves with a tenant's rules (docs/api.md §11.3): its JWT access tokens go, its registered tokens stay. */
  private readonly jwtEpochs = new Map<string, number>();
  /** Moves on every forgetting: a load that began before one may have read what it forgot. */
  private generation = 0;
  #trusted: boolean;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    /** Whether memory can be trusted from the start: a single process (the embedded database) needs no feed. */
    trusted: boolean,
    private readonly onLookup: (result: CacheResult) => void = () => undefined,
  ) {
    this.#trusted = trusted && maxEntries > 0;
  }

  get trusted(): boolean {
    return this.#trusted;
  }

  get size(): number {
    return this.entries.size;
  }

  async find(tenant: string, hash: Buffer, load: () => Promise<RegisteredToken | undefined>): Promise<RegisteredToken | undefined> {
    if (!this.#trusted) {
      this.onLookup('bypass');
      return load();
    }
    const key = `${tenant}\u0000${hash.toString('base64url')}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now && this.current(tenant, hit)) {
      this.onLookup('hit');
      return hit.token;
    }
    if (hit) this.entries.delete(key);
    this.onLookup('miss');
    const started = this.generation;
    const token = await load();
    // Kept only when nothing was forgotten meanwhile (the read may predate a revocation) and the
    // feed was up all along; an expired or revoked token is kept too (it stays that way).
    if (!token || !this.#trusted || this.generation !== started) return token;
    const until = Math.min(now + this.ttlMs, token.expiresAt.getTime(), token.cacheUntil ?? Infinity);
    if (until <= now) return token;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { token, tenantEpoch: this.tenantEpochs.get(tenant) ?? 0, ruleEpoch: this.jwtEpochs.get(tenant) ?? 0, until });
    return token;
  }

  /** Tokens revoked (by any replica): their entries go. */
  forgetTokens(tenant: string, hashes: readonly Buffer[]): void {
    this.generation++;
    for (const hash of hashes) this.entries.delete(`${tenant}\u0000${hash.toString('base64url')}`);
  }

  /** Every entry of a tenant goes at once (its epoch moves; stale entries fall out as they are met). */
  forgetTenant(tenant: string): void {
    this.generation++;
    this.tenantEpochs.set(tenant, (this.tenantEpochs.get(tenant) ?? 0) + 1);
  }

  /** A rule was recorded: every JWT access token (and upstream-known token) of the tenant goes, its registered tokens stay. */
  forgetJwts(tenant: string): void {
    this.generation++;
    this.jwtEpochs.set(tenant, (this.jwtEpochs.get(tenant) ?? 0) + 1);
  }

  /** Whether what the feed says can be relied on; either way, what memory held is forgotten. */
  set trusted(value: boolean) {
    this.forgetAll();
    this.#trusted = value && this.maxEntries > 0;
  }

  forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }

  /**
   * An entry is current while its tenant's epoch has not moved, nor, for a token the rules cover
   * (a JWT, an upstream's, docs/api.md §11.3–§11.4), its tenant's rule epoch.
   */
  private current(tenant: string, entry: { token: RegisteredToken; tenantEpoch: number; ruleEpoch: number }): boolean {
    if (entry.tenantEpoch !== (this.tenantEpochs.get(tenant) ?? 0)) return false;
    return entry.token.origin === 'registered' || entry.ruleEpoch === (this.jwtEpochs.get(tenant) ?? 0);
  }
}
