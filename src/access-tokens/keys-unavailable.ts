import { ProtocolError } from '../protocol/protocol-error';
import { AccessTokenKeyPending, AccessTokenKeysUnavailable } from './access-token-verifier';

/**
 * How a request answers when the access-token keys could not be fetched (docs/api.md §11.3):
 * as an upstream failure of docs/api.md §6 on the public port (504 for a timeout, else 502), as a
 * 503 at the check (it fails closed). Never as an unknown token.
 */
export const keysUnavailable = {
  async asGatewayError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AccessTokenKeyPending) throw ProtocolError.temporarilyUnavailable(error.message, error.retryAfterSeconds);
      if (!(error instanceof AccessTokenKeysUnavailable)) throw error;
      const detail = `access-token jwks_uri: ${(error.cause as Error | undefined)?.message ?? 'failed'}`;
      throw error.timedOut
        ? new ProtocolError('gateway_timeout', "The authorization server's access-token keys did not arrive in time.", { detail })
        : new ProtocolError('bad_gateway', "The authorization server's access-token keys could not be fetched.", { detail });
    }
  },

  async asUnavailable<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof AccessTokenKeysUnavailable)) throw error;
      throw ProtocolError.temporarilyUnavailable(`access-token jwks_uri: ${(error.cause as Error | undefined)?.message ?? 'failed'}`);
    }
  },
};
