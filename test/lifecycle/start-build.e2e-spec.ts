import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freshDatabase } from '../support/gateway';

const ROOT = join(__dirname, '..', '..');
const BUILD_MS = 180_000; // one `nest build` takes 10-20 s on a busy 2-core machine

/**
 * `npm start` (and migration:*) first runs src/build-dist.cjs. Two starts at once in one
 * checkout must both get a complete dist/; a start with nothing changed must not build; a running
 * gateway must survive a rebuild under it. Runs on a copy of the checkout (node_modules linked), so
 * it never touches the working dist/.
 */
describe('the build step of npm start', () => {
  let copy: string;
  const dist = () => join(copy, 'dist');
  const leftovers = () => readdirSync(copy).filter((entry) => entry.startsWith('.dist-'));

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'revgw-start-'));
    for (const entry of ['src', 'migrations', 'tsconfig.json', 'nest-cli.json', 'package.json', 'package-lock.json']) {
      cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  function buildStep(...args: string[]): Promise<{ code: number | null; output: string; ms: number }> {
    const started = Date.now();
    const child = spawn(process.execPath, ['src/build-dist.cjs', ...args], { cwd: copy, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, output, ms: Date.now() - started })));
  }

  /** Every compiled source has its .js in dist/, and the stamp is there. */
  function expectCompleteDist(): void {
    const sources = ['src', 'migrations'].flatMap((dir) =>
      readdirSync(join(copy, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
        .map((f) => join(dir, f)),
    );
    const missing = sources.map((f) => f.replace(/\.ts$/, '.js')).filter((f) => !existsSync(join(dist(), f)));
    expect(missing).toEqual([]);
    expect(readFileSync(join(dist(), '.fingerprint'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  }

  it(
    'two starts at once on a fresh clone: one compiles, the other waits for it; both succeed and dist/ is never partial',
    async () => {
      // What a starting process could read while the builds run: dist/ must be absent or complete.
      const partial = new Set<string>();
      const watch = setInterval(() => {
        if (!existsSync(dist())) return;
        for (const file of ['.fingerprint', 'src/main.js', 'src/gateway.js']) if (!existsSync(join(dist(), file))) partial.add(file);
      }, 2);
      const runs = await Promise.all([buildStep(), buildStep()]).finally(() => clearInterval(watch));

      expect(runs.map((run) => run.code)).toEqual([0, 0]);
      expect(runs.filter((run) => run.output.includes('compiling into dist/ (no complete build yet)'))).toHaveLength(1);
      expect(runs.filter((run) => run.output.includes('up to date (built by the process this one waited for)'))).toHaveLength(1);
      expect([...partial]).toEqual([]);
      expectCompleteDist();
      expect(leftovers()).toEqual([]);
    },
    BUILD_MS,
  );

  it('a start with nothing changed skips the build, quickly', async () => {
    const before = statSync(dist()).ino;
    const run = await buildStep();
    expect(run).toMatchObject({ code: 0, output: 'build-dist: dist/ is up to date\n' });
    expect(run.ms).toBeLessThan(3_000); // a build takes 10 s and more
    expect(statSync(dist()).ino).toBe(before);
  });

  describe('after a source changed', () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let gateway: ChildProcess | undefined;
    beforeAll(async () => {
      database = await freshDatabase();
    });
    afterAll(async () => {
      if (gateway?.exitCode === null) gateway.kill('SIGKILL');
      await database?.drop();
    });

    it(
      'rebuilds under a gateway already running from the old dist/, which keeps serving, and takes over a killed build’s lock',
      async () => {
        gateway = spawn(process.execPath, ['dist/src/main.js'], {
          cwd: copy,
          env: {
            PATH: process.env.PATH,
            PORT: '0',
            MANAGEMENT_PORT: '0',
            HOST: '127.0.0.1',
            ...(database ? { DATABASE_URL: database.url, MIGRATIONS_RUN: 'true' } : { DATA_DIR: 'memory://' }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const { management_port } = await listening(gateway);

        // A build killed mid-way: its lock (a pid that has exited) and its build directory.
        const dead = spawn(process.execPath, ['-e', '']);
        await new Promise((resolve) => dead.on('exit', resolve));
        writeFileSync(join(copy, '.dist-lock'), JSON.stringify({ pid: dead.pid }));
        mkdirSync(join(copy, `.dist-build-${dead.pid}`, 'src'), { recursive: true });

        const before = statSync(dist()).ino;
        appendFileSync(join(copy, 'src', 'main.ts'), '\n// changed by the start-build test\n');
        const run = await buildStep();
        expect(run.code).toBe(0);
        expect(run.output).toContain(`taking over the lock of pid ${dead.pid}, which is gone`);
        expect(run.output).toContain('compiling into dist/ (the sources changed)');
        expect(statSync(dist()).ino).not.toBe(before);
        expect(readFileSync(join(dist(), 'src', 'main.js'), 'utf8')).toContain('// changed by the start-build test');
        expectCompleteDist();
        expect(leftovers()).toEqual([]);

        // The old dist/ is gone from under the running gateway: it serves on, and stops cleanly.
        expect((await fetch(`http://127.0.0.1:${management_port}/health/ready`)).status).toBe(200);
        const exit = new Promise((resolve) => gateway!.on('exit', (code) => resolve(code)));
        gateway.kill('SIGTERM');
        expect(await exit).toBe(0);
      },
      BUILD_MS,
    );

    it(
      'a build that fails leaves the complete dist/ it had, and no lock',
      async () => {
        const before = { ino: statSync(dist()).ino, stamp: readFileSync(join(dist(), '.fingerprint'), 'utf8') };
        appendFileSync(join(copy, 'src', 'main.ts'), "\nexport const notANumber: number = 'a type error';\n");
        const run = await buildStep();
        expect(run.code).toBe(1);
        expect(run.output).toContain('nest build failed (exit 1); dist/ is unchanged');
        expect({ ino: statSync(dist()).ino, stamp: readFileSync(join(dist(), '.fingerprint'), 'utf8') }).toEqual(before);
        expectCompleteDist();
        expect(leftovers()).toEqual([]);
      },
      BUILD_MS,
    );
  });

  /** Resolves with the gateway's "gateway listening" log line. */
  function listening(child: ChildProcess): Promise<{ port: number; management_port: number }> {
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start in ${relative(ROOT, copy)}:\n${output}`)), 30_000);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((l) => l.includes('"gateway listening"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      child.on('exit', (code) => reject(new Error(`the gateway exited (${code}):\n${output}`)));
    });
  }
});
