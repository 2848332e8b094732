/**
 * Group commit for revocations (the performance issue): requests that arrive while the database
 * is busy wait together and go as one statement, so PostgreSQL parses, plans, runs and commits
 * once for many of them. A request that finds a free slot goes at once, alone — at low load there
 * is no added latency; under load, batches grow by themselves to what arrived meanwhile.
 *
 * One batch is one statement, so it is atomic: if it fails, none of its revocations happened, and
 * every request in it gets the failure (a 503 for a lost database) — never a silent partial
 * result. A failure that is not the database's (a bad value in one request) is retried one
 * request at a time, so it fails that request only.
 */
export class GroupCommit<Request, Result> {
  private readonly waiting: Array<{ request: Request; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly runOne: (request: Request) => Promise<Result>,
    private readonly runMany: (requests: Request[]) => Promise<Result[]>,
    private readonly isDatabaseFailure: (error: unknown) => boolean,
    /** Statements running at once; more requests than that wait for the next batch. */
    private readonly maxInFlight: number,
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
      if (this.isDatabaseFailure(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      // One at a time, within this batch's slot: never more statements at once than allowed.
      for (const { request, resolve, reject } of batch) await this.runOne(request).then(resolve, reject);
    }
  }
}
