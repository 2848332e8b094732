import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A postgres:// URL for the normal `pg` driver (its `host` is the socket's directory). */
  readonly url: string;
  stop(): Promise<void>;
}

/** libpq's name for a server socket in its directory (port 5432). */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sockaddr_un.sun_path holds 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;

/**
 * PostgreSQL for a machine with nothing installed: PGlite (PostgreSQL compiled to WASM) served by
 * pglite-socket, so the application talks to it with the same `pg` driver and SQL as to a real
 * server. PGlite has one session: callers must use a pool of one connection (a second connection
 * would wait forever on an open transaction).
 *
 * PGlite checks no credentials at all, so the socket is a Unix socket in a directory of its own
 * (mode 0700, made fresh at every start): only this user can reach it. On a loopback TCP port
 * any local process could open the database with any password, un-revoke tokens, or hold its one
 * connection and stall every revocation.
 *
 * @param dataDir a folder to persist in, or `undefined` for an in-memory database (tests).
 * @param socketParent where the socket's own directory is made (the temporary directory).
 */
export async function startEmbeddedPostgres(dataDir: string | undefined, socketParent = tmpdir()): Promise<EmbeddedPostgres> {
  let db: PGlite;
  if (dataDir) {
    const path = resolve(dataDir, 'pglite');
    mkdirSync(path, { recursive: true });
    db = await PGlite.create({ dataDir: path });
  } else {
    db = await PGlite.create();
  }
  // Absolute (the driver reads a host starting with `/` as a socket directory), and short enough
  // for a Unix socket path (108 bytes with its NUL; longer, it would be cut outside the directory).
  const socketDir = mkdtempSync(join(resolve(socketParent), 'revgw-pg-'));
  const socketPath = join(socketDir, SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
    throw new Error(
      `the embedded database's socket path would be ${Buffer.byteLength(socketPath)} bytes, over ${MAX_SOCKET_PATH}: set TMPDIR to a shorter directory`,
    );
  }
  chmodSync(socketDir, 0o700);
  const server = new PGLiteSocketServer({ db, path: socketPath });
  try {
    await server.start();
    chmodSync(socketPath, 0o600);
  } catch (error) {
    await server.stop().catch(() => undefined);
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`,
    async stop() {
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
