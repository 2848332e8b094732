import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { startEmbeddedPostgres } from '../../src/database/embedded';
import { startGateway } from '../../src/gateway';
import { ADMIN_TOKEN } from '../support/gateway';

/** `npm start` with no DATABASE_URL: PGlite in DATA_DIR, migrated at start, data kept across restarts. */
describe('embedded database in DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'revgw-data-'));
  const config = loadConfig({ PORT: '0', MANAGEMENT_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'silent' });
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps clients across a restart and serves revocations on the same database', async () => {
    const first = await startGateway(config);
    try {
      expect(first.database.embedded).toBe(true);
      const put = await fetch(`${first.managementUrl}/admin/clients/kept`, { method: 'PUT', headers, body: JSON.stringify({ auth_method: 'none' }) });
      expect(put.status).toBe(201);
    } finally {
      await first.close();
    }
    const second = await startGateway(config);
    try {
      const again = await fetch(`${second.managementUrl}/admin/clients/kept`, { method: 'PUT', headers, body: JSON.stringify({ auth_method: 'none' }) });
      expect(again.status).toBe(200); // replaced, not created: the first run's row survived
      const revoke = await fetch(`${second.publicUrl}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=abc&client_id=kept',
      });
      expect(revoke.status).toBe(200);
    } finally {
      await second.close();
    }
    // Two starts of PGlite from disk (WASM), migrations included: 10-25 s on a busy 2-core machine.
  }, 90_000);

  /**
   * PGlite checks no credentials: on a loopback TCP port, any local process could open it with
   * any password, un-revoke tokens, or hold its one connection. It is a Unix socket in a fresh
   * directory only this user can enter.
   */
  it('refuses a TMPDIR too long for a socket path, clearly, and leaves nothing behind', async () => {
    const long = join(dataDir, 'x'.repeat(90));
    mkdirSync(long, { recursive: true });
    await expect(startEmbeddedPostgres(undefined, long)).rejects.toThrow(/socket path would be \d+ bytes, over 107: set TMPDIR/);
    expect(readdirSync(long)).toEqual([]);
  });

  it('listens on no TCP port of its own: only the two HTTP ports; its socket is in a 0700 directory', async () => {
    const gateway = await startGateway(config);
    try {
      const ports = new Set([Number(new URL(gateway.publicUrl).port), Number(new URL(gateway.managementUrl).port)]);
      expect(new Set(listeningTcpPortsOfThisProcess())).toEqual(ports);
      const socketDir = new URL((gateway.database.dataSource.options as { url: string }).url).searchParams.get('host')!;
      const stat = statSync(socketDir);
      expect(stat.mode & 0o777).toBe(0o700);
      expect(stat.uid).toBe(process.getuid!());
    } finally {
      await gateway.close();
    }
  });
});

/** TCP ports this process listens on, from /proc: a LISTEN socket whose inode is one of our fds. */
function listeningTcpPortsOfThisProcess(): number[] {
  const ours = new Set(
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? []].flat();
      } catch {
        return [];
      }
    }),
  );
  return ['/proc/self/net/tcp', '/proc/self/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && ours.has(fields[9]))
      .map((fields) => parseInt(fields[1].split(':')[1], 16)),
  );
}
