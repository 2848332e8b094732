import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL, to take the database away from the gateway and give
 * it back without touching the server: `refuse()` drops every connection and refuses new ones,
 * `blackhole()` accepts connections and never answers, `restore()` forwards again. With
 * `dropNotifications` it forwards everything but the server's NotificationResponse messages, as a
 * transaction-pooling PgBouncer does to a session's LISTEN.
 */
export class TcpProxy {
  private mode: 'forward' | 'refuse' | 'blackhole' = 'forward';
  /** Drop the server's NotificationResponse ('A') messages on their way to the client. */
  dropNotifications = false;
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the server a postgres URL names: a host and port, or (`?host=/dir`) a Unix socket. */
  static to(url: string): TcpProxy {
    const target = new URL(url);
    const socketDir = target.searchParams.get('host');
    if (socketDir?.startsWith('/')) return new TcpProxy(`${socketDir}/.s.PGSQL.${target.port || 5432}`, 0);
    return new TcpProxy(target.hostname, Number(target.port || 5432));
  }

  async start(): Promise<void> {
    await this.listen(0);
  }

  /** Rewrites a postgres URL to go through this proxy. */
  route(url: string): string {
    const routed = new URL(url);
    routed.hostname = '127.0.0.1';
    routed.port = String(this.port);
    routed.searchParams.delete('host');
    return routed.toString();
  }

  async refuse(): Promise<void> {
    this.mode = 'refuse';
    this.dropAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.server = undefined;
  }

  blackhole(): void {
    this.mode = 'blackhole';
    this.dropAll();
  }

  async restore(): Promise<void> {
    this.mode = 'forward';
    if (!this.server) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.mode !== 'forward') return; // blackhole: hold the connection, say nothing
      const upstream = this.targetHost.startsWith('/') ? connect(this.targetHost) : connect(this.targetPort, this.targetHost);
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      if (!this.dropNotifications) return void upstream.pipe(client);
      // The server's side of the protocol is typed messages: a byte, then an int32 length that counts itself.
      let pending = Buffer.alloc(0);
      upstream.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const kept: Buffer[] = [];
        while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
          const size = 1 + pending.readInt32BE(1);
          if (pending[0] !== 0x41) kept.push(pending.subarray(0, size));
          pending = pending.subarray(size);
        }
        if (kept.length > 0) client.write(Buffer.concat(kept));
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}
