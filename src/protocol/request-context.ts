import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProfileName } from './profiles';

/**
 * What the gateway learns about a request as it goes down the pipeline, kept on the raw Node
 * request so that the error filter and the request log line see it whatever stage failed.
 */
export interface RequestContext {
  interactionId: string;
  /** Which listener took the request: the public API or the management port. */
  surface: 'public' | 'management';
  /** The profile whose route the router matched (public port), if any. */
  profile?: ProfileName;
  tenant?: string;
  clientId?: string;
  /** From `x-fapi-customer-ip-address`, for the audit trail. */
  psuIp?: string;
  /** A FAPI header (or the interaction id) refused as malformed: counted with the answer (docs/api.md §10). */
  rejectedHeader?: string;
  /** The caller's address (docs/api.md §5, §7: behind a trusted proxy, from X-Forwarded-For). */
  sourceAddress?: string;
  /**
   * Set when the answer was written on the socket by Node's client-error path (a body that never
   * finished arriving: 408) rather than by Fastify, so the request's one log line tells it.
   */
  answeredOnSocket?: number;
}

const CONTEXT = Symbol('revgw.context');
const CURRENT = Symbol('revgw.current-request');
type WithContext = IncomingMessage & { [CONTEXT]?: RequestContext };
type WithCurrent = Duplex & { [CURRENT]?: IncomingMessage };

/** Attaches the context to the request and marks it as the one its connection is busy with. */
export function setRequestContext(raw: IncomingMessage, context: RequestContext): RequestContext {
  (raw as WithContext)[CONTEXT] = context;
  if (raw.socket) (raw.socket as WithCurrent)[CURRENT] = raw;
  return context;
}

export function requestContext(raw: IncomingMessage): RequestContext | undefined {
  return (raw as WithContext)[CONTEXT];
}

/**
 * The request a connection is still receiving: its headers arrived, its body has not all come
 * (a request that arrived whole and is being served is not it, even on a pipelining
 * connection whose next request is the one that stalled).
 */
export function requestStillArriving(socket: Duplex): RequestContext | undefined {
  const raw = (socket as WithCurrent)[CURRENT];
  return raw && !raw.complete ? requestContext(raw) : undefined;
}

/** The request's answer has gone: a later failure on this keep-alive connection is another request's. */
export function requestAnswered(raw: IncomingMessage): void {
  const socket = raw.socket as WithCurrent | null;
  if (socket && socket[CURRENT] === raw) socket[CURRENT] = undefined;
}
