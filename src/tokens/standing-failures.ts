import { AccessTokenKeyPending, AccessTokenKeysUnavailable } from '../access-tokens/access-token-verifier';
import { UpstreamIntrospectionBusy } from '../introspection/upstream-introspection';
import { ProtocolError } from '../protocol/protocol-error';
import { UpstreamFailure } from '../upstream/upstream-outcome';

/**
 * How a request answers when a token's standing could not be had (TokenStanding): the
 * access-token keys could not be fetched (docs/api.md §11.3) or the upstream introspection
 * failed (docs/api.md §11.4). On the public port (`gateway`), as an upstream failure of
 * docs/api.md §6 (504 for a timeout or a "later", else 502); at the check (`unavailable`), 503:
 * it fails closed. Never as an unknown token. A key a revocation must wait for, and an upstream
 * with as many questions in flight as the gateway allows, are a 503 with a Retry-After everywhere.
 */
export async function answeringFailures<T>(as: 'gateway' | 'unavailable', work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mapped(as, error) ?? error;
  }
}

function mapped(as: 'gateway' | 'unavailable', error: unknown): ProtocolError | undefined {
  if (error instanceof AccessTokenKeyPending) return ProtocolError.temporarilyUnavailable(error.message, error.retryAfterSeconds);
  if (error instanceof UpstreamIntrospectionBusy) return ProtocolError.temporarilyUnavailable(error.message, 1);
  const failure =
    error instanceof AccessTokenKeysUnavailable
      ? {
          timedOut: error.timedOut,
          of: "The authorization server's access-token keys",
          detail: `access-token jwks_uri: ${(error.cause as Error | undefined)?.message ?? 'failed'}`,
        }
      : error instanceof UpstreamFailure
        ? { timedOut: error.status === 504, of: 'The upstream authorization server', detail: `upstream introspection: ${error.detail}` }
        : undefined;
  if (!failure) return undefined;
  if (as === 'unavailable') return ProtocolError.temporarilyUnavailable(failure.detail);
  return failure.timedOut
    ? new ProtocolError('gateway_timeout', `${failure.of} did not answer in time.`, { detail: failure.detail })
    : new ProtocolError('bad_gateway', `${failure.of} could not be reached or answered wrongly.`, { detail: failure.detail });
}
