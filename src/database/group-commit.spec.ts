import { GroupCommit } from './group-commit';

/** A database stand-in: statements complete when the test says so. */
function fakeDatabase() {
  const statements: Array<{ requests: number[]; finish: (error?: Error) => void }> = [];
  const run = (requests: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      statements.push({ requests, finish: (error) => (error ? reject(error) : resolve(requests.map((r) => r * 10))) });
    });
  return { statements, runOne: (r: number) => run([r]).then(([x]) => x), runMany: run };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));
const unavailable = () => new Error('try again');

/** Takes the one slot with request 0 and queues `requests` behind it; frees the slot: they go as one statement. */
async function batchBehindBlocker(commit: GroupCommit<number, number>, db: ReturnType<typeof fakeDatabase>, requests: number[]) {
  const blocker = commit.submit(0);
  const answers = requests.map((r) => commit.submit(r).then(String, (error: Error) => `rejected: ${error.message}`));
  await tick();
  db.statements[0].finish();
  await blocker;
  await tick();
  return answers;
}

describe('GroupCommit', () => {
  it('sends a request at once when a slot is free, and batches what arrives while none is', async () => {
    const db = fakeDatabase();
    const commit = new GroupCommit(db.runOne, db.runMany, () => false, 1, 60_000, unavailable);
    const first = commit.submit(1);
    const rest = [2, 3, 4].map((r) => commit.submit(r));
    await tick();
    expect(db.statements.map((s) => s.requests)).toEqual([[1]]);
    db.statements[0].finish();
    expect(await first).toBe(10);
    await tick();
    expect(db.statements.map((s) => s.requests)).toEqual([[1], [2, 3, 4]]);
    db.statements[1].finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('gives every request of a batch the database failure: nothing partial, nothing silent', async () => {
    const db = fakeDatabase();
    const commit = new GroupCommit(db.runOne, db.runMany, (error) => (error as Error).message === 'db down', 1, 60_000, unavailable);
    const batch = await batchBehindBlocker(commit, db, [1, 2, 3]);
    db.statements[1].finish(new Error('db down'));
    expect(await Promise.all(batch)).toEqual(['rejected: db down', 'rejected: db down', 'rejected: db down']);
    expect(db.statements).toHaveLength(2);
  });

  it('retries a batch that failed for another reason one request at a time, so only the culprit fails', async () => {
    const db = fakeDatabase();
    const commit = new GroupCommit(db.runOne, db.runMany, () => false, 1, 60_000, unavailable);
    const batch = await batchBehindBlocker(commit, db, [1, 2]);
    db.statements[1].finish(new Error('bad value in request 2'));
    await tick();
    // One at a time, in the batch's own slot: the second waits for the first.
    expect(db.statements.slice(2).map((s) => s.requests)).toEqual([[1]]);
    db.statements[2].finish();
    await tick();
    expect(db.statements.slice(2).map((s) => s.requests)).toEqual([[1], [2]]);
    db.statements[3].finish(new Error('bad value in request 2'));
    expect(await Promise.all(batch)).toEqual(['10', 'rejected: bad value in request 2']);
  });

  it('never runs more statements at once than allowed, and caps a batch', async () => {
    const db = fakeDatabase();
    const commit = new GroupCommit(db.runOne, db.runMany, () => false, 2, 60_000, unavailable, 3);
    const all = Array.from({ length: 8 }, (_, i) => commit.submit(i));
    await tick();
    expect(db.statements.map((s) => s.requests)).toEqual([[0], [1]]);
    db.statements[0].finish();
    db.statements[1].finish();
    await tick();
    await tick();
    expect(db.statements.slice(2).map((s) => s.requests)).toEqual([
      [2, 3, 4],
      [5, 6, 7],
    ]);
    db.statements[2].finish();
    db.statements[3].finish();
    expect(await Promise.all(all)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
  });

  it('stops retrying one at a time once the budget is spent: the rest are told to try again, nothing hangs', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const db = fakeDatabase();
      const commit = new GroupCommit(db.runOne, db.runMany, () => false, 1, 1000, unavailable);
      const batch = await batchBehindBlocker(commit, db, [1, 2, 3]);
      db.statements[1].finish(new Error('lock wait'));
      await tick();
      // The first retry is slow (another lock wait): the budget runs out meanwhile.
      jest.advanceTimersByTime(1500);
      db.statements[2].finish(new Error('lock wait'));
      expect(await Promise.all(batch)).toEqual(['rejected: lock wait', 'rejected: try again', 'rejected: try again']);
      expect(db.statements).toHaveLength(3); // 2 and 3 were never retried
    } finally {
      jest.useRealTimers();
    }
  });
});
