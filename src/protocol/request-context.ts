import type { IncomingMessage } from 'node:http';
import type { ProfileName } from './profiles';

/**
 * What the gateway learns about a request as it goes down the pipeline, kept on the raw Node
 * request so that the error filter and the request log line see it whatever stage failed.
 */
export interface RequestContext {
  interactionId: string;
  /** Which listener took the request: the public API or the management port. */
  surface: 'public' | 'management';
  /** The wire contract errors are rendered in (management routes use the rfc7009 shape). */
  profile: ProfileName;
  tenant?: string;
  clientId?: string;
  /** From `x-fapi-customer-ip-address`, for the audit trail. */
  psuIp?: string;
}

const CONTEXT = Symbol('revgw.context');
type WithContext = IncomingMessage & { [CONTEXT]?: RequestContext };

export function setRequestContext(raw: IncomingMessage, context: RequestContext): void {
  (raw as WithContext)[CONTEXT] = context;
}

export function requestContext(raw: IncomingMessage): RequestContext | undefined {
  return (raw as WithContext)[CONTEXT];
}
