import { createServer, type AddressInfo } from 'node:net';
import { Pool } from 'pg';
import {
  failsEveryRequest,
  isLockConflict,
  isRetryableConflict,
  isTransientDatabaseError,
  markConnectFailures,
  markUnanswered,
  retryingConflicts,
} from './db-errors';

/** What node-postgres throws: an Error carrying the SQLSTATE or errno code. */
const withCode = (code: string, message = 'db failure') => Object.assign(new Error(message), { code });
/** TypeORM's QueryFailedError shape when only the driver error carries the code. */
const typeorm = (code: string) => Object.assign(new Error('query failed'), { driverError: withCode(code) });

describe('isTransientDatabaseError', () => {
  it.each(['08006', '08001', '57P01', '57014', '53300', '53100', '40P01', '40001', '55P03', '25006'])('classifies SQLSTATE %s as transient', (code) =>
    expect(isTransientDatabaseError(withCode(code))).toBe(true),
  );

  it.each(['23505', '42P01', '22P02', '42501', 'XX000', '55000', '55006'])('classifies SQLSTATE %s as a defect', (code) =>
    expect(isTransientDatabaseError(withCode(code))).toBe(false),
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])(
    'classifies node error code %s as transient',
    (code) => expect(isTransientDatabaseError(withCode(code, `connect ${code}`))).toBe(true),
  );

  it('classifies by where a failure happened, never by its message', () => {
    // The same words, unmarked, from nowhere in particular: a defect.
    expect(isTransientDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe(false);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(false);
    // A statement the server never answered (no severity): the database is unavailable.
    expect(isTransientDatabaseError(markUnanswered(new Error('anything at all')))).toBe(true);
    // What TypeORM throws for a statement whose driver error has no severity (it copies the code).
    const unreachable = Object.assign(new Error('connect ENETUNREACH'), {
      name: 'QueryFailedError',
      code: 'ENETUNREACH',
      driverError: Object.assign(new Error('x'), { code: 'ENETUNREACH' }),
    });
    expect(isTransientDatabaseError(unreachable)).toBe(true);
    const lost = Object.assign(new Error('x'), {
      name: 'QueryFailedError',
      code: 'ESOMETHINGNEW',
      driverError: Object.assign(new Error('x'), { code: 'ESOMETHINGNEW' }),
    });
    expect(isTransientDatabaseError(lost)).toBe(true);
    const queryFailed = Object.assign(new Error('query failed'), { name: 'QueryFailedError', driverError: new Error('Connection terminated') });
    expect(isTransientDatabaseError(queryFailed)).toBe(true);
    // A server answer is classified by its SQLSTATE, whatever it says.
    const answered = Object.assign(new Error('Connection terminated'), { severity: 'ERROR', code: '23505' });
    expect(isTransientDatabaseError(markUnanswered(answered))).toBe(false);
    // The driver refusing a value before sending it is a defect.
    expect(isTransientDatabaseError(markUnanswered(new TypeError('bad value')))).toBe(false);
  });

  describe('a pool whose connect failures are marked', () => {
    let pool: Pool;
    beforeAll(async () => {
      const port = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as AddressInfo;
          server.close(() => resolve(port));
        });
      });
      pool = new Pool({ host: '127.0.0.1', port, connectionTimeoutMillis: 500 });
      markConnectFailures(pool);
    });
    afterAll(() => pool.end());

    it('marks a refused connection, as a promise and through a callback', async () => {
      const error = await pool.connect().catch((e: unknown) => e);
      expect(isTransientDatabaseError(error)).toBe(true);
      const viaCallback = await new Promise((resolve) => pool.connect((e) => resolve(e)));
      expect(isTransientDatabaseError(viaCallback)).toBe(true);
    });
  });

  it('reads the code of a TypeORM error from driverError', () => {
    expect(isTransientDatabaseError(typeorm('57P01'))).toBe(true);
    expect(isTransientDatabaseError(typeorm('ECONNREFUSED'))).toBe(true);
    expect(isTransientDatabaseError(typeorm('23505'))).toBe(false);
  });
});

describe('isRetryableConflict', () => {
  it.each(['40P01', '40001'])('retries deadlock/serialization failure %s', (code) => {
    expect(isRetryableConflict(withCode(code))).toBe(true);
    expect(isRetryableConflict(typeorm(code))).toBe(true);
  });

  it.each(['40002', '40003', '08006', '57P01', '23505', 'ECONNRESET'])('does not retry %s', (code) => expect(isRetryableConflict(withCode(code))).toBe(false));

  it('does not retry errors without a code', () => {
    expect(isRetryableConflict(new Error('deadlock detected'))).toBe(false);
    expect(isRetryableConflict(undefined)).toBe(false);
  });
});

describe('isLockConflict', () => {
  it.each(['55P03', '40P01', '40001'])('names %s a conflict over rows', (code) => expect(isLockConflict(typeorm(code))).toBe(true));

  it.each(['57014', '57P01', '08006', '53300', '55000', 'ECONNRESET', 'XX000'])('does not name %s one', (code) =>
    expect(isLockConflict(withCode(code))).toBe(false),
  );
});

describe('retryingConflicts', () => {
  it('retries a deadlock and returns the later success', async () => {
    let calls = 0;
    const result = await retryingConflicts(async () => {
      if (++calls < 3) throw withCode('40P01');
      return 'done';
    });
    expect({ result, calls }).toEqual({ result: 'done', calls: 3 });
  });

  it('gives up after the attempts, and never retries another failure', async () => {
    let calls = 0;
    const deadlock = withCode('40P01');
    await expect(
      retryingConflicts(async () => {
        calls++;
        throw deadlock;
      }, 2),
    ).rejects.toBe(deadlock);
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      retryingConflicts(async () => {
        calls++;
        throw withCode('55P03');
      }),
    ).rejects.toMatchObject({ code: '55P03' });
    expect(calls).toBe(1);
  });
});

describe('failsEveryRequest', () => {
  it.each(['08006', '53100', '57014', '57P01', 'ECONNREFUSED'])('%s: the database failed the whole batch', (code) =>
    expect(failsEveryRequest(withCode(code))).toBe(true),
  );
  it.each(['55P03', '40P01', '40001', '22P02', 'XX000'])('%s: some requests failed it, retried one by one', (code) =>
    expect(failsEveryRequest(withCode(code))).toBe(false),
  );
});
