import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake does with the next requests. */
export type UpstreamBehaviour =
  | { kind: 'answer'; status: number; body?: string; contentType?: string; delayMs?: number }
  /** Closes the connection without an answer. */
  | { kind: 'reset' }
  /** Sends 200 and its headers at once, then the body a byte at a time, never finishing. */
  | { kind: 'drip' };

export interface SeenRequest {
  readonly headers: IncomingHttpHeaders;
  readonly form: URLSearchParams;
  readonly receivedAt: number;
  /** When the answer (or the reset) went out; unset while in flight. */
  answeredAt?: number;
  /** When the exchange ended for good: answered, reset, or given up by the gateway. */
  closedAt?: number;
}

/**
 * An upstream authorization server on 127.0.0.1 for the tests: answers what it is told, slowly if
 * asked, resets connections, goes away (connection refused) and comes back on the same port.
 * It records every request it read.
 */
export class FakeUpstream {
  readonly seen: SeenRequest[] = [];
  behaviour: UpstreamBehaviour = { kind: 'answer', status: 200 };
  /** Set: picks the behaviour for each request instead of `behaviour` (chaos). */
  behave?: (seen: SeenRequest) => UpstreamBehaviour;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/oauth2/revoke`;
  }

  /** Requests for one token, oldest first. */
  requestsFor(token: string): SeenRequest[] {
    return this.seen.filter((request) => request.form.get('token') === token);
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const seen: SeenRequest = { headers: request.headers, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')), receivedAt: Date.now() };
        this.seen.push(seen);
        response.on('close', () => (seen.closedAt = Date.now()));
        const behaviour = this.behave?.(seen) ?? this.behaviour;
        if (behaviour.kind === 'reset') {
          seen.answeredAt = Date.now();
          request.socket.destroy();
          return;
        }
        if (behaviour.kind === 'drip') {
          response.writeHead(200, { 'content-type': 'application/json' });
          const drip = setInterval(() => (response.destroyed ? clearInterval(drip) : response.write(' ')), 50);
          response.on('close', () => {
            clearInterval(drip);
            seen.answeredAt = Date.now();
          });
          return;
        }
        const answer = () => {
          seen.answeredAt = Date.now();
          if (response.destroyed) return;
          response.writeHead(behaviour.status, { 'content-type': behaviour.contentType ?? 'application/json' });
          response.end(behaviour.body ?? '');
        };
        if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs).unref();
        else answer();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection: the next connect is refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
