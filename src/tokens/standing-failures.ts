import { AccessTokenKeyPending, AccessTokenKeysUnavailable } from '../access-tokens/access-token-verifier';
import { ProtocolError } from '../protocol/protocol-error';
import { UpstreamIntrospectionBusy } from '../introspection/upstream-introspection';
import { UpstreamFailure } from '../upstream/upstream-outcome';

/**
 * How a request answers when a token's standing could not be had (TokenStanding): the
 * access-token keys could not be fetched (docs/api.md §11.3) or the upstream introspection
 * failed (docs/api.md §11.4). On the public port, as an upstream failure of docs/api.md §6 (504
 * for a timeout or a "later", else 502); at the check, 503 (it fails closed). Never as an
 * unknown token. A key a revocation must wait for, and an upstream with as many questions in
 * flight as the gateway allows, are a 503 with a Retry-After everywhere.
 */
export const standingFailures = {
  async asGatewayError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AccessTokenKeyPending) throw ProtocolError.temporarilyUnavailable(error.message, error.retryAfterSeconds);
      if (error instanceof UpstreamIntrospectionBusy) throw ProtocolError.temporarilyUnavailable(error.message, 1);
      if (error instanceof AccessTokenKeysUnavailable) {
        const detail = `access-token jwks_uri: ${(error.cause as Error | undefined)?.message ?? 'failed'}`;
        throw error.timedOut
          ? new ProtocolError('gateway_timeout', "The authorization server's access-token keys did not arrive in time.", { detail })
          : new ProtocolError('bad_gateway', "The authorization server's access-token keys could not be fetched.", { detail });
      }
      if (error instanceof UpstreamFailure) {
        throw error.status === 504
          ? new ProtocolError('gateway_timeout', 'The upstream authorization server did not answer in time.', { detail: error.detail })
          : new ProtocolError('bad_gateway', 'The upstream authorization server could not be reached or answered wrongly.', { detail: error.detail });
      }
      throw error;
    }
  },

  async asUnavailable<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AccessTokenKeyPending) throw ProtocolError.temporarilyUnavailable(error.message, error.retryAfterSeconds);
      if (error instanceof UpstreamIntrospectionBusy) throw ProtocolError.temporarilyUnavailable(error.message, 1);
      if (error instanceof AccessTokenKeysUnavailable) {
        throw ProtocolError.temporarilyUnavailable(`access-token jwks_uri: ${(error.cause as Error | undefined)?.message ?? 'failed'}`);
      }
      if (error instanceof UpstreamFailure) throw ProtocolError.temporarilyUnavailable(`upstream introspection: ${error.detail}`);
      throw error;
    }
  },
};
