import type { Pool, PoolClient } from 'pg';

/**
 * Classifies a database failure by where it happened. Failing to obtain a connection (refused,
 * timed out, authentication failed, database missing, pool closed) and a statement the server
 * never answered (the connection broke under it, the client-side timeout) mean "the database
 * cannot answer now": transient, 503 + Retry-After (RFC 7009 §2.2.1), and so do the server's
 * own transient answers (connection, resources, operator intervention, rollback, lock timeout).
 * Any other answer of the server is a defect (500), or the caller's value (class 22: 400).
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57', '40']; // connection, resources, operator intervention, rollback
const LOCK_NOT_AVAILABLE = '55P03'; // lock_timeout: another transaction holds the rows for now
// read_only_sql_transaction: a standby, or a primary being failed over (default_transaction_read_only).
const READ_ONLY = '25006';
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Where a failure was marked as the database's being unavailable. */
const UNAVAILABLE = Symbol('revgw.database-unavailable');
type Marked = { [UNAVAILABLE]?: 'connecting' | 'unanswered' };

/** Marks a failure to obtain a connection, whatever the error says. */
function markConnecting(error: unknown): Error {
  const marked = error instanceof Error ? error : new Error(String(error));
  (marked as Marked)[UNAVAILABLE] = 'connecting';
  return marked;
}

/**
 * A statement's failure that is no answer of the server's (an answer carries a severity and a
 * SQLSTATE): the connection broke, or the client-side query timeout fired. A TypeError or
 * RangeError is the driver refusing a value before sending it: a defect.
 */
export function isUnanswered(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Marked)[UNAVAILABLE] === 'unanswered') return true;
  return !('severity' in error) && !(error instanceof TypeError) && !(error instanceof RangeError);
}

/** Marks a statement's failure the server never answered (see isUnanswered), for the classifiers downstream. */
export function markUnanswered<T>(error: T): T {
  if (isUnanswered(error)) (error as Marked)[UNAVAILABLE] = 'unanswered';
  return error;
}

/**
 * Makes the pool under TypeORM mark its connect failures, in both of its call styles (TypeORM's
 * callback, PreparedStatements' promise), so that any path to the database classifies them the
 * same way.
 */
export function markConnectFailures(pool: Pool): void {
  const connect = pool.connect.bind(pool) as (
    callback?: (error: Error | undefined, client?: PoolClient, done?: (release?: unknown) => void) => void,
  ) => Promise<PoolClient> | void;
  const marked = (callback?: (error: Error | undefined, client?: PoolClient, done?: (release?: unknown) => void) => void) => {
    if (callback) return connect((error, client, done) => callback(error === undefined || error === null ? error : markConnecting(error), client, done));
    return (connect() as Promise<PoolClient>).catch((error: unknown) => Promise.reject(markConnecting(error)));
  };
  pool.connect = marked as Pool['connect'];
}

/** SQLSTATE class 22: a value the database cannot store (out of range, bad encoding) — bad input. */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') ?? false;
}

/** Deadlock and serialization failures: safe to retry the same statement at once. */
export function isRetryableConflict(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40P01' || code === '40001';
}

/**
 * A statement that failed over rows other transactions held (a lock wait past lock_timeout, a
 * deadlock, a serialization failure): a failure of that statement's rows, not of the database.
 */
export function isLockConflict(error: unknown): boolean {
  return isRetryableConflict(error) || sqlState(error) === LOCK_NOT_AVAILABLE;
}

/**
 * A failed batch failed for every request in it: the database is lost, full or slow past the
 * statement timeout. Not a lock conflict, which is about some requests' rows only (lock waits end
 * at lock_timeout, below the statement timeout), nor a defect or a bad value.
 */
export function failsEveryRequest(error: unknown): boolean {
  return isTransientDatabaseError(error) && !isLockConflict(error);
}

/** Runs a statement, again at once after a deadlock or serialization failure (PostgreSQL aborted one side). */
export async function retryingConflicts<T>(statement: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
    }
  }
}

export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && (error as Marked)[UNAVAILABLE] !== undefined) return true;
  const code = sqlState(error);
  if (code && TRANSIENT_NODE_CODES.has(code)) return true; // before SQLSTATE: 'EPIPE' is five letters too
  if (code === LOCK_NOT_AVAILABLE || code === READ_ONLY) return true;
  // TypeORM wraps whatever the driver threw for a statement: without a severity, the server never answered.
  const wrapped = error as { name?: unknown; driverError?: unknown } | null;
  if (wrapped?.name === 'QueryFailedError' && isUnanswered(wrapped.driverError)) return true;
  if (code && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
  return false;
}

/** The SQLSTATE of a driver error, or of the one a TypeORM QueryFailedError wraps. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // TypeORM's QueryFailedError copies the driver error's fields; `driverError` keeps the original.
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate.code ?? candidate.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}
