import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { closeDraining } from './connection-drain';

/** A server that answers 200, with `Connection: close` once `draining` is set (as the gateway does). */
function server(): { server: Server; url: string; drain: () => void; listen: () => Promise<void> } {
  let draining = false;
  const srv = createServer((req, res) => {
    if (draining) res.setHeader('connection', 'close');
    res.end('ok');
  });
  const handle = {
    server: srv,
    url: '',
    drain: () => (draining = true),
    listen: () =>
      new Promise<void>((resolve) =>
        srv.listen(0, '127.0.0.1', () => {
          handle.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
          resolve();
        }),
      ),
  };
  return handle;
}

const close = (srv: Server) => () => new Promise<void>((resolve, reject) => srv.close((error) => (error ? reject(error) : resolve())));

describe('closeDraining', () => {
  it('serves a request sent on an idle keep-alive connection after the close began, then closes', async () => {
    const s = server();
    await s.listen();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    try {
      expect((await (await request(s.url, { dispatcher: agent })).body.text()).length).toBe(2);
      s.drain();
      const closing = closeDraining(s.server, close(s.server), 2000);
      await sleep(100);
      // With a bare server.close() this connection would already be gone (the request would fail).
      const answer = await request(s.url, { method: 'POST', body: 'token=x', dispatcher: agent });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers.connection).toBe('close');
      await answer.body.text();
      await closing;
      expect(s.server.listening).toBe(false);
    } finally {
      await agent.close();
    }
  });

  it('stops accepting connections at once', async () => {
    const s = server();
    await s.listen();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    try {
      await (await request(s.url, { dispatcher: agent })).body.text();
      const closing = closeDraining(s.server, close(s.server), 2000);
      await sleep(50);
      await expect(request(s.url, { dispatcher: new Agent() })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await agent.close();
      await closing;
    } finally {
      await agent.close().catch(() => undefined);
    }
  });

  it('closes connections still idle when the window ends', async () => {
    const s = server();
    await s.listen();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    try {
      await (await request(s.url, { dispatcher: agent })).body.text();
      const started = Date.now();
      await closeDraining(s.server, close(s.server), 300);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(280);
      expect(took).toBeLessThan(2000);
    } finally {
      await agent.close();
    }
  });

  it('does not wait for the window when no connection is open', async () => {
    const s = server();
    await s.listen();
    const started = Date.now();
    await closeDraining(s.server, close(s.server), 5000);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
