import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A postgres:// URL for the normal `pg` driver. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL for a machine with nothing installed: PGlite (PostgreSQL compiled to WASM) served on a
 * loopback port by pglite-socket, so the application talks to it with the same `pg` driver and SQL
 * as to a real server. PGlite has one session: callers must use a pool of one connection
 * (../shared/STACK.md — a second connection would wait forever on an open transaction).
 *
 * @param dataDir a folder to persist in, or `undefined` for an in-memory database (tests).
 */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let db: PGlite;
  if (dataDir) {
    const path = resolve(dataDir, 'pglite');
    mkdirSync(path, { recursive: true });
    db = await PGlite.create({ dataDir: path });
  } else {
    db = await PGlite.create();
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const port = listeningPort(server);
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

function listeningPort(server: PGLiteSocketServer): number {
  const port = Number(server.getServerConn().split(':').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error('embedded PostgreSQL did not report its port');
  return port;
}
