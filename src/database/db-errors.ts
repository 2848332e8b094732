/**
 * Classifies a database failure: "the database cannot answer now" (connection lost or refused,
 * pool exhausted, timeouts, shutdown, serialization conflicts) is transient and becomes 503 +
 * Retry-After (RFC 7009 §2.2.1); anything else is a defect and becomes 500.
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57', '40']; // connection, resources, operator intervention, rollback
const LOCK_NOT_AVAILABLE = '55P03'; // lock_timeout: another transaction holds the rows for now
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'connection timeout',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'Connection is not established',
];

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
  const code = sqlState(error);
  if (code && TRANSIENT_NODE_CODES.has(code)) return true; // before SQLSTATE: 'EPIPE' is five letters too
  if (code === LOCK_NOT_AVAILABLE) return true;
  if (code && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
  const message = error instanceof Error ? error.message : '';
  return TRANSIENT_MESSAGES.some((fragment) => message.includes(fragment));
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // TypeORM's QueryFailedError copies the driver error's fields; `driverError` keeps the original.
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate.code ?? candidate.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}
