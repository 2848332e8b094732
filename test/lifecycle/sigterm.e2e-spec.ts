import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Agent, request } from 'undici';
import { hashToken } from '../../src/revocation/token-hash';
import { ADMIN_TOKEN, basic, freshDatabase } from '../support/gateway';

const ROOT = join(__dirname, '..', '..');
/** Compiled like `npm run build`, but out of the way of dist/ (and under node_modules, so imports resolve). */
const OUT = join(ROOT, 'node_modules', '.cache', 'revgw-sigterm-build');

/**
 * docs/api.md §1, SIGTERM, on the real process (`node …/main.js`, as the image runs it): readiness
 * says 503 at once, the public listener stops taking connections, a request already in flight
 * finishes, the pools close, and the process exits 0 within SHUTDOWN_GRACE_MS.
 */
describe('SIGTERM on the running process', () => {
  let child: ChildProcess;
  let output = '';
  let ports: { port: number; management_port: number };
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', OUT], { cwd: ROOT });
    database = await freshDatabase();
  }, 60_000);
  afterAll(() => database?.drop());

  /** Starts the gateway as the image does, and waits for its "listening" line. */
  async function startProcess(): Promise<void> {
    output = '';
    child = spawn(process.execPath, [join(OUT, 'src', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        MANAGEMENT_PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_TOKEN: ADMIN_TOKEN,
        SHUTDOWN_GRACE_MS: '8000',
        // One address and one client drive the load test: the budgets would only measure themselves.
        THROTTLE_IP_LIMIT: '0',
        THROTTLE_CLIENT_LIMIT: '0',
        ...(database ? { DATABASE_URL: database.url, MIGRATIONS_RUN: 'true' } : { DATA_DIR: 'memory://' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    ports = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 20_000);
      child.stdout!.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('"gateway listening"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
    });
    const management = `http://127.0.0.1:${ports.management_port}`;
    await fetch(`${management}/admin/clients/app`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ auth_method: 'client_secret_basic', secret: 'app-secret-value' }),
    });
  }
  afterEach(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('finishes the request in flight, answers readiness 503, refuses new connections, exits 0', async () => {
    await startProcess();
    const management = `http://127.0.0.1:${ports.management_port}`;
    expect((await fetch(`${management}/health/ready`)).status).toBe(200);

    // A request in flight: headers and half its body sent, the rest after SIGTERM.
    const body = 'token=some-token-value-0123456789';
    const socket = connect(ports.port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.write(
      `POST /token/revoke HTTP/1.1\r\nHost: gw\r\nAuthorization: ${basic('app', 'app-secret-value')}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect((await fetch(`${management}/health/ready`, { headers: { connection: 'close' } })).status).toBe(503);
    await expect(fetch(`http://127.0.0.1:${ports.port}/token/revoke`, { method: 'POST' })).rejects.toThrow();

    socket.write(body.slice(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('connection: close');

    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8000);
    expect(output).toContain('"shutting down"');
  }, 30_000);

  it('under load: every request the gateway accepted is answered (no reset), the rest are refused before being read', async () => {
    await startProcess();
    const management = `http://127.0.0.1:${ports.management_port}`;
    const tokens = Array.from({ length: 4000 }, (_, i) => `drain-${i}-${Date.now()}`);
    const registered = await fetch(`${management}/admin/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tokens: tokens.map((token) => ({ token, token_type: 'access_token', client_id: 'app', grant_id: 'g', expires_at: '2030-01-01T00:00:00Z' })),
      }),
    });
    expect(registered.status).toBe(201);

    const agent = new Agent({ pipelining: 1 }); // keep-alive connections, one request at a time each
    const answered: Array<{ id: string; status: number }> = [];
    const failed: Array<{ id: string; token: string; code: string }> = [];
    let next = 0;
    const worker = async () => {
      for (;;) {
        const token = tokens[next++];
        if (!token) return;
        const id = randomUUID();
        try {
          const response = await request(`http://127.0.0.1:${ports.port}/token/revoke`, {
            method: 'POST',
            dispatcher: agent,
            headers: { authorization: basic('app', 'app-secret-value'), 'content-type': 'application/x-www-form-urlencoded', 'x-fapi-interaction-id': id },
            body: `token=${token}`,
          });
          await response.body.dump();
          answered.push({ id, status: response.statusCode });
        } catch (error) {
          failed.push({ id, token, code: (error as { code?: string }).code ?? String(error) });
          if ((error as { code?: string }).code === 'ECONNREFUSED') return; // the listener is closed: done
        }
      }
    };
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const load = Promise.all(Array.from({ length: 16 }, worker));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = answered.length;
    child.kill('SIGTERM');
    await load;
    expect(await exited).toBe(0);
    await agent.close();

    // What the gateway read, from its own log: any line naming the request's interaction id.
    const logged = new Set(
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line).interaction_id as string | undefined),
    );
    const resetAfterAccepting = failed.filter((f) => logged.has(f.id));
    if (process.env.RELIABILITY_REPORT) {
      const codes = failed.reduce<Record<string, number>>((count, f) => ({ ...count, [f.code]: (count[f.code] ?? 0) + 1 }), {});
      console.log(
        `sigterm under load: ${JSON.stringify({ answered: answered.length, answered_after_sigterm: answered.length - before, failed: codes, reset_after_accepting: resetAfterAccepting.length })}`,
      );
    }
    expect(before).toBeGreaterThan(0);
    expect(answered.length - before + failed.length).toBeGreaterThan(0); // the signal came under load
    expect(new Set(answered.map((a) => a.status))).toEqual(new Set([200]));
    // A request that failed was never read by the gateway: refused at the door, nothing applied.
    expect(resetAfterAccepting).toEqual([]);
    if (database) {
      const db = new Client({ connectionString: database.url });
      await db.connect();
      try {
        const { rows } = await db.query('SELECT count(*)::int AS n FROM tokens WHERE revoked_at IS NOT NULL AND token_hash = ANY($1)', [
          failed.map((f) => hashToken(f.token)),
        ]);
        expect(rows[0].n).toBe(0);
      } finally {
        await db.end();
      }
    }
  }, 60_000);
});
