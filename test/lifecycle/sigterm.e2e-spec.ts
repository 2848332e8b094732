import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, basic, freshDatabase } from '../support/gateway';

const ROOT = join(__dirname, '..', '..');
/** Compiled like `npm run build`, but out of the way of dist/ (and under node_modules, so imports resolve). */
const OUT = join(ROOT, 'node_modules', '.cache', 'revgw-sigterm-build');

/**
 * CONTRACT §1, SIGTERM, on the real process (`node …/main.js`, as the image runs it): readiness
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
    child = spawn(process.execPath, [join(OUT, 'src', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        MANAGEMENT_PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_TOKEN: ADMIN_TOKEN,
        SHUTDOWN_GRACE_MS: '8000',
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
  }, 60_000);
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await database?.drop();
  });

  it('finishes the request in flight, answers readiness 503, refuses new connections, exits 0', async () => {
    const management = `http://127.0.0.1:${ports.management_port}`;
    await fetch(`${management}/admin/clients/app`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ auth_method: 'client_secret_basic', secret: 'app-secret-value' }),
    });
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
});
