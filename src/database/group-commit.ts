/**
 * Group commit (the performance issue), for revocations and for client assertion `jti`s: requests
 * that arrive while the database is busy wait together and go as one statement, so PostgreSQL
 * parses, plans, runs and commits once for many of them. A request that finds a free slot goes at once, alone — at low load there
 * is no added latency; under load, batches grow by themselves to what arrived meanwhile.
 *
 * One batch is one statement, so it is atomic: if it fails, none of its requests happened.
 * - A failure of the database (lost, full, slow past the statement timeout) fails every request in
 *   it (a 503 each) — never a silent partial result.
 * - Any other failure is about some request's rows or values: a lock wait past lock_timeout, a
 *   deadlock, a bad value. The batch is retried one request at a time, so only the requests it
 *   is about fail. That retry is bounded: past `retryBudgetMs`, the rest are told to try again.
 */
export class GroupCommit<Request, Result> {
  private readonly waiting: Array<{ request: Request; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly runOne: (request: Request) => Promise<Result>,
    private readonly runMany: (requests: Request[]) => Promise<Result[]>,
    /** Whether a failed batch failed for everyone (the database's failure) rather than for some requests. */
    private readonly failsEveryone: (error: unknown) => boolean,
    /** Statements running at once; more requests than that wait for the next batch. */
    private readonly maxInFlight: number,
    /** How long the one-at-a-time retry of a failed batch may take before it gives up on the rest. */
    private readonly retryBudgetMs: number,
    /** What the requests not retried by then get: a "try again" (503), never the batch's own failure. */
    private readonly unavailable: () => Error,
    private readonly maxBatch = 256,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private async run(batch: GroupCommit<Request, Result>['waiting']): Promise<void> {
    if (batch.length === 1) {
      const [{ request, resolve, reject }] = batch;
      return this.runOne(request).then(resolve, reject);
    }
    try {
      const results = await this.runMany(batch.map((entry) => entry.request));
      batch.forEach((entry, i) => entry.resolve(results[i]));
    } catch (error) {
      if (this.failsEveryone(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      // One at a time, within this batch's slot: never more statements at once than allowed.
      // Past the budget the rest are told to retry: the batch's failure (a bad value, say) may
      // concern none of them, and a 400 would make a client drop a valid revocation.
      const deadline = Date.now() + this.retryBudgetMs;
      for (const { request, resolve, reject } of batch) {
        if (Date.now() >= deadline) reject(this.unavailable());
        else await this.runOne(request).then(resolve, reject);
      }
    }
  }
}

/**
 * How many statements of one kind may run at once: a share of the pool, so that the others
 * (client lookups, outbox updates, another kind of batch) always find a connection. The embedded
 * database has one connection: one at a time.
 */
export function statementSlots(config: { databaseUrl?: string; database: { poolSize: number } }, share: number): number {
  return config.databaseUrl ? Math.max(1, Math.floor(config.database.poolSize * share)) : 1;
}
