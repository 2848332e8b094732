import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx (`apt-get install nginx`; .ci/run installs it), or NGINX_BIN. */
export function nginxBinary(): string {
  const bin = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
  const version = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error(`no nginx at ${bin}: install it (apt-get install nginx) or set NGINX_BIN`);
  if (!version.stderr.includes('--with-http_auth_request_module')) throw new Error(`${bin} has no auth_request module`);
  return bin;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real NGINX in a temp folder, in the foreground, one process, with the `http {}` block a test
 * writes. Its own pid, logs and temp paths: nothing of the machine's nginx is read or written.
 */
export class Nginx {
  private process?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'revgw-nginx-'));

  private constructor(readonly port: number) {}

  /** `http` gets `listen` as its first argument: the address NGINX listens on. */
  static async start(http: (listen: string) => string): Promise<Nginx> {
    const nginx = new Nginx(await freePort());
    await nginx.run(http(`127.0.0.1:${nginx.port}`));
    return nginx;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async run(http: string): Promise<void> {
    const temp = (name: string) => {
      mkdirSync(join(this.dir, name));
      return join(this.dir, name);
    };
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(
      conf,
      [
        'daemon off;',
        'master_process off;',
        'worker_processes 1;',
        `pid ${join(this.dir, 'nginx.pid')};`,
        `error_log ${join(this.dir, 'error.log')} warn;`,
        'events { worker_connections 256; }',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${temp('body')};`,
        `  proxy_temp_path ${temp('proxy')};`,
        `  fastcgi_temp_path ${temp('fastcgi')};`,
        `  uwsgi_temp_path ${temp('uwsgi')};`,
        `  scgi_temp_path ${temp('scgi')};`,
        http,
        '}',
      ].join('\n'),
    );
    const bin = nginxBinary();
    const test = spawnSync(bin, ['-t', '-p', this.dir, '-c', conf, '-e', join(this.dir, 'error.log')], { encoding: 'utf8' });
    if (test.status !== 0) throw new Error(`nginx refused its configuration: ${test.stderr}`);
    this.process = spawn(bin, ['-p', this.dir, '-c', conf, '-e', join(this.dir, 'error.log')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(this.url + '/__nginx_up');
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`nginx did not start: ${this.errorLog()}`);
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
