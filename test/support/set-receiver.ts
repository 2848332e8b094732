import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One SET as a receiver got it: the compact JWS, its decoded parts, and the request's headers. */
export interface ReceivedSet {
  readonly jws: string;
  readonly header: Record<string, any>;
  readonly claims: Record<string, any>;
  readonly headers: IncomingMessage['headers'];
  readonly at: number;
}

/** What the receiver does with the next push: answer with a status (after a delay), or cut the connection. */
export type Behaviour = { status: number; delayMs?: number; body?: string } | 'destroy';

/**
 * An RFC 8935 push receiver on a real port: it records every SET it answers 2xx to (and, in
 * `attempts`, every one it got), answering as `behave` says. `down()` closes the port (connections
 * refused) and `up()` opens the same port again.
 */
export class SetReceiver {
  readonly received: ReceivedSet[] = [];
  readonly attempts: ReceivedSet[] = [];
  behave: (set: ReceivedSet) => Behaviour = () => ({ status: 202 });
  /** Pushes being answered right now, per jti: a SET in flight twice at once shows here. */
  readonly inFlight = new Map<string, number>();
  maxConcurrentPerSet = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor() {
    this.server = this.makeServer();
  }

  static async start(): Promise<SetReceiver> {
    const receiver = new SetReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async up(): Promise<void> {
    this.server = this.makeServer();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  stop(): Promise<void> {
    return this.down();
  }

  /** Waits until `count` SETs were received (2xx), or fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedSet[]> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > until) throw new Error(`receiver got ${this.received.length} of ${count} SETs within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }

  private makeServer(): Server {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const jws = Buffer.concat(chunks).toString('utf8');
        const [header, payload] = jws.split('.');
        const set: ReceivedSet = {
          jws,
          header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
          claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
          headers: request.headers,
          at: Date.now(),
        };
        this.attempts.push(set);
        const jti = String(set.claims.jti);
        const now = (this.inFlight.get(jti) ?? 0) + 1;
        this.inFlight.set(jti, now);
        this.maxConcurrentPerSet = Math.max(this.maxConcurrentPerSet, now);
        // In flight until answered or until the transmitter gives up on it (closes the connection).
        let finished = false;
        const done = () => {
          if (finished) return;
          finished = true;
          this.inFlight.set(jti, (this.inFlight.get(jti) ?? 1) - 1);
        };
        response.on('close', done);
        const behaviour = this.behave(set);
        if (behaviour === 'destroy') {
          done();
          request.socket.destroy();
          return;
        }
        setTimeout(() => {
          if (finished) return;
          done();
          if (behaviour.status >= 200 && behaviour.status < 300) this.received.push(set);
          response.writeHead(behaviour.status, { 'content-type': 'application/json' }).end(behaviour.body ?? '');
        }, behaviour.delayMs ?? 0);
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }
}
