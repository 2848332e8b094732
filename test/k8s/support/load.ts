/**
 * Bounded load through the release's public Service while a step disrupts the pods: revocations of
 * tokens seeded in SQL, at a fixed rate over keep-alive connections (as an ingress controller
 * sends them), each answer recorded with its token so that every 2xx can be looked up afterwards.
 * A client-side failure (reset, refused, timeout) is recorded too, never retried: a retry would hide
 * exactly what the step looks for.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { admin, sql } from './cluster';

export const CLIENT_ID = 'k8s-tpp';
export const CLIENT_SECRET = 'k8s-client-secret-0123456789abcdef';
const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

/** `count` access tokens `<prefix>.<i>` of the client, hashed by PostgreSQL as the gateway stores them. */
export async function seedTokens(prefix: string, count: number): Promise<void> {
  await sql(
    `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at)
     SELECT 'default', sha256(convert_to($1 || '.' || i, 'UTF8')), 'access_token', $2, 'g-' || $1 || '-' || i, now() + interval '1 day'
       FROM generate_series(0, $3::int - 1) AS i`,
    [prefix, CLIENT_ID, count],
  );
}

/** Of these tokens, the ones the database does not hold as revoked. */
export async function notRevoked(tokens: string[]): Promise<string[]> {
  const rows = await sql<{ hash: string }>(
    `SELECT encode(h, 'hex') AS hash FROM unnest($1::bytea[]) AS h
      WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.tenant = 'default' AND t.token_hash = h AND t.revoked_at IS NOT NULL)`,
    [tokens.map((token) => createHash('sha256').update(token).digest())],
  );
  const missing = new Set(rows.map((row) => row.hash));
  return tokens.filter((token) => missing.has(createHash('sha256').update(token).digest('hex')));
}

export interface LoadReport {
  sent: number;
  /** Answers by status code. */
  statuses: Record<number, number>;
  /** Tokens whose revocation was answered 2xx. */
  revoked: string[];
  /** Non-2xx answers and client-side failures, with the token and when (ms since the start). */
  failures: Array<{ at: number; token: string; status?: number; retryAfter?: string | null; error?: string }>;
  /** Requests not sent because ten seconds' worth were still in flight (the service had stalled). */
  skipped: number;
  /** The load ran out of seeded tokens and stopped sending (seed more, or the step took too long). */
  exhausted: boolean;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
}

export interface Load {
  stop(): Promise<LoadReport>;
}

/**
 * Starts `rate` revocations per second of `<prefix>.0`, `<prefix>.1`, … until stop(), never past
 * `<prefix>.<seeded - 1>`: an unknown token is answered 200 too (RFC 7009 §2.2), and would then
 * look like a revocation the database lost.
 */
export function startLoad(url: string, prefix: string, rate: number, seeded: number, connections = 16): Load {
  const pool = new Pool(url, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const started = Date.now();
  const report: LoadReport = { sent: 0, statuses: {}, revoked: [], failures: [], skipped: 0, exhausted: false, p50Ms: 0, p99Ms: 0, seconds: 0 };
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let next = 0;

  const revoke = async (token: string) => {
    const sentAt = Date.now();
    try {
      const response = await pool.request({
        method: 'POST',
        path: '/token/revoke',
        headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded', 'x-fapi-interaction-id': randomUUID() },
        body: `token=${encodeURIComponent(token)}`,
      });
      await response.body.text();
      latencies.push(Date.now() - sentAt);
      report.statuses[response.statusCode] = (report.statuses[response.statusCode] ?? 0) + 1;
      if (response.statusCode >= 200 && response.statusCode < 300) report.revoked.push(token);
      else {
        const retryAfter = response.headers['retry-after'];
        report.failures.push({ at: sentAt - started, token, status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      }
    } catch (error) {
      report.failures.push({ at: sentAt - started, token, error: (error as Error & { code?: string }).code ?? (error as Error).message });
    }
  };

  // Every 20 ms, the requests due by now: the rate holds whatever the timer's jitter.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * rate) / 1000);
    while (next < due) {
      if (next >= seeded) {
        report.exhausted = true;
        break;
      }
      const token = `${prefix}.${next++}`;
      if (inFlight.size >= 10 * rate) {
        report.skipped++;
        continue;
      }
      report.sent++;
      const request = revoke(token).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  }, 20);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      await pool.close();
      report.seconds = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      report.p50Ms = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
      report.p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
      return report;
    },
  };
}

/** One line for the test log: what the load saw. */
export function summary(report: LoadReport): string {
  return `${report.sent} revocations in ${report.seconds.toFixed(0)} s (${(report.sent / report.seconds).toFixed(0)}/s): statuses ${JSON.stringify(report.statuses)}, ${report.failures.length} failed, ${report.skipped} skipped${report.exhausted ? ', ran out of seeded tokens' : ''}, p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms`;
}

/** The load's client (client_secret_basic), made or replaced through the admin API. */
export async function registerClient(managementUrl: string): Promise<void> {
  await admin(managementUrl, 'PUT', `/admin/clients/${CLIENT_ID}`, { auth_method: 'client_secret_basic', secret: CLIENT_SECRET });
}
