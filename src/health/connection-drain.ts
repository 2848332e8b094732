import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** The longest a listener waits for idle keep-alive connections to take their last answer. */
export const KEEP_ALIVE_DRAIN_MS = 1000;

/**
 * docs/api.md §1 SIGTERM: closes a listener without dropping requests that are already on their way
 * over a keep-alive connection. Node's `server.close()` (and Fastify's `forceCloseConnections`)
 * would destroy every connection idle at that instant, and a connection counts as idle until the
 * event loop has read the request that the client already sent; destroying it with those bytes
 * unread resets it, and the client cannot know whether its revocation was done. A load balancer
 * keeps sending on its open connections until it learns the pod is gone (in Kubernetes, right up to
 * the SIGTERM that follows the preStop sleep). So the listener stops accepting at once, the open
 * connections get `Connection: close` on their next answer (readiness is draining) for up to
 * `windowMs`, and only the ones still idle after that are closed; in-flight requests then finish.
 */
export async function closeDraining(server: Server, close: () => Promise<void>, windowMs: number): Promise<void> {
  const closeIdleConnections = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => undefined;
  const closed = close();
  let settled = false;
  const done = closed.finally(() => (settled = true));
  done.catch(() => undefined);
  try {
    // Nest runs its shutdown hooks before the listener closes; the window starts when it does.
    while (!settled && server.listening) await sleep(10);
    const deadline = Date.now() + windowMs;
    while (!settled && Date.now() < deadline && (await openConnections(server)) > 0) await sleep(20);
  } finally {
    server.closeIdleConnections = closeIdleConnections;
  }
  server.closeIdleConnections();
  await closed;
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}
