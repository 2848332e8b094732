import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/config';
import { IN_MEMORY } from '../../src/database/database';
import { startGateway, type Gateway } from '../../src/gateway';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestGateway extends Gateway {
  /** Calls the admin API with the admin bearer token; JSON in, parsed JSON out. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  /** POSTs a form to the public port. */
  post(path: string, form: Record<string, string> | string, headers?: Record<string, string>): Promise<Response>;
  /** Tears down the gateway and its fresh database. */
  stop(): Promise<void>;
}

/**
 * A gateway on ephemeral ports with a database of its own: a fresh database on the server named by
 * DATABASE_URL when it is set (CI), else an in-memory embedded PostgreSQL.
 */
export async function startTestGateway(env: Record<string, string> = {}, logger?: Logger): Promise<TestGateway> {
  const database = env.DATABASE_URL ? undefined : await freshDatabase();
  const config = loadConfig({
    PORT: '0',
    MANAGEMENT_PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: IN_MEMORY,
    ...(database ? { DATABASE_URL: database.url, MIGRATIONS_RUN: 'true' } : {}),
    ...env,
  });
  const gateway = await startGateway(config, logger);
  return {
    ...gateway,
    async admin(method, path, body) {
      const response = await fetch(gateway.managementUrl + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    post(path, form, headers = {}) {
      const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
      return fetch(gateway.publicUrl + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    },
    async stop() {
      await gateway.close();
      await database?.drop();
    },
  };
}

/** `DATABASE_URL` set: a new, empty database on that server for one test file. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const server = process.env.DATABASE_URL;
  if (!server) return undefined;
  const name = `revgw_test_${randomBytes(6).toString('hex')}`;
  await withClient(server, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export const IN_A_YEAR = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
export const YESTERDAY = new Date(Date.now() - 24 * 3600 * 1000).toISOString();

/** A token value that looks like what an authorization server issues. */
export function newToken(prefix = 'tok'): string {
  return `${prefix}.${randomBytes(24).toString('base64url')}`;
}

/** A response body as JSON, typed loosely for assertions. */
export async function json(response: Response): Promise<any> {
  return JSON.parse(await response.text());
}

/**
 * Sends bytes as they are (for requests no HTTP client would build) and returns the raw answer.
 * By default the client then half-closes, as for a request the server may refuse unread; Node's
 * HTTP server drops a request whose client half-closed before it was answered, so a request meant
 * to reach the database is sent with `halfClose: false` (and `Connection: close`).
 */
export function rawHttp(baseUrl: string, request: string, { halfClose = true } = {}): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => (halfClose ? socket.end(request) : socket.write(request)));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** A loopback port nothing listens on (for "the service is down" tests). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Two gateways (replicas) sharing one fresh database on the DATABASE_URL server. */
export async function startReplicas(env: Record<string, string> = {}): Promise<{ a: TestGateway; b: TestGateway; stop(): Promise<void> }> {
  const database = await freshDatabase();
  if (!database) throw new Error('replicas need DATABASE_URL');
  const a = await startTestGateway({ ...env, DATABASE_URL: database.url, MIGRATIONS_RUN: 'true' });
  const b = await startTestGateway({ ...env, DATABASE_URL: database.url });
  return {
    a,
    b,
    async stop() {
      await a.stop();
      await b.stop();
      await database.drop();
    },
  };
}

/** PostgreSQL's count of deadlocks in the gateway's database (0 on the embedded one, which has one session). */
export async function deadlocks(gw: Gateway): Promise<number> {
  if (!process.env.DATABASE_URL) return 0;
  const [row] = await gw.database.dataSource.query(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`);
  return Number(row.deadlocks);
}

/** The enforcement check (docs/api.md §11.5) of a bearer token on `gw`. */
export const checkToken = (gw: Gateway, token: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}`, ...headers } });

/** The first moment `gw`'s check denies `token`, in ms from now; every answer before must be 200; throws past `withinMs`. */
export async function deniedWithin(gw: Gateway, token: string, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = (await checkToken(gw, token)).status;
    if (status === 401) return Date.now() - started;
    if (status !== 200) throw new Error(`the check answered ${status}`);
    if (Date.now() - started > withinMs) throw new Error(`still allowed after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
