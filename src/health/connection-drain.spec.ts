import { Agent as HttpAgent, createServer, get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { closeDraining, QUIET_MS } from './connection-drain';

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

  it('closes the idle connections once no request came for QUIET_MS', async () => {
    const s = server();
    await s.listen();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    try {
      await (await request(s.url, { dispatcher: agent })).body.text();
      const started = Date.now();
      await closeDraining(s.server, close(s.server), 5000);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(QUIET_MS - 10);
      expect(took).toBeLessThan(QUIET_MS + 1000);
    } finally {
      await agent.close();
    }
  });

  it('keeps the window open while requests keep coming, each open connection answering one more', async () => {
    const s = server();
    await s.listen();
    // node:http's agent reuses a free socket before it opens one (undici may reconnect a closed one).
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 5 });
    const get = () =>
      new Promise<number>((resolve, reject) =>
        httpGet(s.url, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject),
      );
    try {
      // Five connections open, all idle.
      await Promise.all(Array.from({ length: 5 }, get));
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(5);
      s.drain();
      const closing = closeDraining(s.server, close(s.server), 5000);
      // One request every 200 ms (under QUIET_MS apart): the last comes a second into the window.
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        statuses.push(await get());
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      await closing;
    } finally {
      agent.destroy();
    }
  });

  it('closes idle connections when the window ends, however busy the others', async () => {
    const s = server();
    await s.listen();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    const busy = new Agent({ connections: 50, keepAliveTimeout: 60_000 });
    try {
      await (await request(s.url, { dispatcher: agent })).body.text();
      await Promise.all(Array.from({ length: 50 }, async () => (await request(s.url, { dispatcher: busy })).body.text()));
      s.drain();
      const started = Date.now();
      const closing = closeDraining(s.server, close(s.server), 600);
      // A request every 100 ms on the busy connections, past the window.
      let stop = false;
      const traffic = (async () => {
        while (!stop) {
          await sleep(100);
          await request(s.url, { dispatcher: busy }).then(
            (r) => r.body.text(),
            () => undefined,
          );
        }
      })();
      await closing;
      stop = true;
      await traffic;
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(580);
      expect(took).toBeLessThan(2500);
    } finally {
      await agent.close();
      await busy.close();
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
