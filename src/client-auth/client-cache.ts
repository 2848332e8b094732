/**
 * Client registrations read by authentication, kept for CLIENT_CACHE_TTL_MS so the hot path does
 * not look a client up on every request. One cache per process, shared by the public and the
 * management application: an admin change invalidates its entry here at once; other replicas see
 * it within the TTL (a deleted client or a rotated secret works there for at most that long).
 * Unknown clients are cached too (a TPP retrying with a wrong id costs no query), and the cache is
 * bounded, so a flood of invented client ids cannot grow it.
 */
export class ClientCache<Row> {
  private readonly entries = new Map<string, { row: Row | undefined; until: number }>();
  /** Moves on every invalidation: a load that started before one may have read the old row. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(tenant: string, clientId: string, load: () => Promise<Row | undefined>): Promise<Row | undefined> {
    if (this.ttlMs === 0) return load();
    const key = `${tenant}\u0000${clientId}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.row;
    const started = this.generation;
    const row = await load();
    // Read before a change committed here (a rotated secret, a role taken away): answer this
    // request with it, but never keep it for the next ones.
    if (this.generation !== started) return row;
    // Maps keep insertion order: re-inserting moves the key last, so the first key is the oldest.
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { row, until: now + this.ttlMs });
    return row;
  }

  invalidate(tenant: string, clientId: string): void {
    this.generation++;
    this.entries.delete(`${tenant}\u0000${clientId}`);
  }
}
