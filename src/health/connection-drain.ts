import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest a listener waits for idle keep-alive connections to take their last answer. */
export const KEEP_ALIVE_DRAIN_MS = 1000;
/** A listener that got no request for this long while draining: its callers have stopped sending. */
export const QUIET_MS = 250;

/**
 * docs/api.md §1 SIGTERM: closes a listener without dropping requests that are already on their way
 * over a keep-alive connection. Node's `server.close()` (and Fastify's `forceCloseConnections`)
 * would destroy every connection idle at that instant, and a connection counts as idle until the
 * event loop has read the request that the client already sent; destroying it with those bytes
 * unread resets it, and the client cannot know whether its revocation was done. A load balancer
 * keeps sending on its open connections until it learns the pod is gone (in Kubernetes, right up to
 * the SIGTERM that follows the preStop sleep). So the listener stops accepting at once, the open
 * connections get `Connection: close` on their next answer (readiness is draining) for up to
 * `windowMs`, or until no request has come for QUIET_MS (the callers stopped sending: the load
 * balancer knows), and only the ones still idle then are closed; in-flight requests then finish.
 */
export async function closeDraining(server: Server, close: () => Promise<void>, windowMs: number): Promise<void> {
  const closeIdleConnections = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => undefined;
  let lastRequest = Date.now();
  const onRequest = () => (lastRequest = Date.now());
  server.on('request', onRequest);
  const closed = close();
  let settled = false;
  const done = closed.finally(() => (settled = true));
  done.catch(() => undefined);
  try {
    // Nest runs its shutdown hooks before the listener closes; the window starts when it does.
    while (!settled && server.listening) await sleep(10);
    const deadline = Date.now() + windowMs;
    lastRequest = Math.max(lastRequest, Date.now());
    const draining = async () => {
      if (settled || Date.now() >= deadline || (await openConnections(server)) === 0) return false;
      if (Date.now() - lastRequest < QUIET_MS) return true;
      // Quiet, as far as the requests read so far tell: let the event loop read what sockets hold
      // (a busy loop may not have yet), then look again.
      await new Promise((resolve) => setImmediate(resolve));
      return Date.now() - lastRequest < QUIET_MS;
    };
    while (await draining()) await sleep(20);
  } finally {
    server.closeIdleConnections = closeIdleConnections;
    server.off('request', onRequest);
  }
  server.closeIdleConnections();
  await closed;
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}
