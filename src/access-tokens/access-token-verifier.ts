import { Inject, Injectable } from '@nestjs/common';
import { errors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { KeySets } from '../client-auth/key-sets';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import {
  ACCESS_TOKEN_ALGORITHMS,
  accessTokenClaims,
  CLOCK_SKEW_S,
  looksLikeAccessToken,
  unverifiedIssuer,
  type AccessTokenClaims,
} from './access-token-claims';

/** Whose JWT access tokens a tenant accepts (docs/api.md §11.3). */
export interface AccessTokenTrust {
  readonly jwksUri: string;
  readonly issuer: string;
}

/**
 * The authorization server's access-token keys could not be had (its jwks_uri failed, timed out,
 * or answered something that is not a key set): nobody can tell whether the token is one of its,
 * so this is a failure (502, 504 on a timeout; 503 at the check), never an unknown token.
 */
export class AccessTokenKeysUnavailable extends Error {
  constructor(
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super('the access-token keys could not be fetched', options);
    this.name = 'AccessTokenKeysUnavailable';
  }
}

/**
 * The set does not hold the key a token names, and was fetched too recently to be fetched again
 * for a revocation: the key may be a new one (a rotation), so the revocation is to be retried in a
 * moment (503 + Retry-After), never answered as one of an unknown token that records nothing.
 */
export class AccessTokenKeyPending extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the token names a key the access-token key set does not hold yet');
    this.name = 'AccessTokenKeyPending';
  }
}

/** How soon the keys may be fetched again for a revocation of a token whose `kid` they lack. */
export const REVOCATION_REFETCH_MS = 5000;

/** Errors of the key lookup that say "no key of the set fits", an answer about the token rather than a failure. */
const NO_KEY = [errors.JWKSNoMatchingKey, errors.JOSENotSupported, errors.JOSEAlgNotAllowed];

/**
 * RFC 9068 §4 validation of a JWT access token with jose, against the tenant's keys: fetched from
 * its jwks_uri with the limits and caching of a client's (KeySets). Every refusal — `alg: none`,
 * an HMAC (jose's JWK Sets never hold secret keys, and the allowed algorithms are asymmetric
 * only), a key named in the token's own header (`jwk`, `jku`, `x5u`, `x5c` are never read), a
 * wrong `typ`, `iss`, signature, an expired token — is an unknown token. The audience is not
 * checked: the gateway is not the resource the token is for (RFC 9068 §4 is the resource
 * server's).
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly options: JWTVerifyOptions;

  constructor(
    private readonly keys: KeySets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.options = { typ: 'at+jwt', algorithms: [...ACCESS_TOKEN_ALGORITHMS], clockTolerance: CLOCK_SKEW_S, requiredClaims: ['exp', 'client_id'] };
  }

  /**
   * The token's claims when it is a known access token of this trust; undefined when it is not;
   * throws AccessTokenKeysUnavailable, and for a revocation AccessTokenKeyPending.
   *
   * A token naming a `kid` the cached set lacks is checked against a set fetched after the
   * question was asked, for a revocation: the set is fetched again at once (at most every 5 s),
   * or the revocation waits for that (docs/api.md §11.3). Elsewhere an unknown `kid` fetches the
   * set again at most once a minute (KeySets), and the token is unknown meanwhile.
   */
  async verify(token: string, trust: AccessTokenTrust, { forRevocation = false } = {}): Promise<AccessTokenClaims | undefined> {
    // Only a token that could pass makes the keys be fetched.
    if (!looksLikeAccessToken(token) || unverifiedIssuer(token) !== trust.issuer) return undefined;
    const asked = Date.now();
    let outcome = await this.attempt(token, trust);
    if (outcome === 'no-key' && forRevocation && this.keys.fetchedAt(trust.jwksUri) < asked) {
      if (!(await this.refetched(trust.jwksUri))) {
        const waitMs = REVOCATION_REFETCH_MS - (Date.now() - this.keys.fetchedAt(trust.jwksUri));
        throw new AccessTokenKeyPending(Math.max(1, Math.ceil(waitMs / 1000)));
      }
      outcome = await this.attempt(token, trust);
    }
    if (typeof outcome === 'string') return undefined;
    return accessTokenClaims(outcome, this.config.accessTokens.consentClaim, this.config.accessTokens.maxLifetimeS);
  }

  private async refetched(uri: string): Promise<boolean> {
    try {
      return await this.keys.refetch(uri, REVOCATION_REFETCH_MS);
    } catch (error) {
      throw new AccessTokenKeysUnavailable(timedOut(error), { cause: error });
    }
  }

  /** One verification: the payload, or why not (`no-key`: the set has no key the token names). */
  private async attempt(token: string, trust: AccessTokenTrust): Promise<JWTPayload | 'no-key' | 'invalid'> {
    const source = this.keys.forUri(trust.jwksUri);
    let failure: unknown;
    let noKey = false;
    const getKey: JWTVerifyGetKey = async (header, input) => {
      try {
        return await source(header, input);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey) noKey = true;
        else if (!(error instanceof errors.JWKSMultipleMatchingKeys) && !NO_KEY.some((kind) => error instanceof kind)) failure = error;
        throw error;
      }
    };
    const options = { ...this.options, issuer: trust.issuer };
    try {
      return (await jwtVerify(token, getKey, options)).payload;
    } catch (error) {
      if (failure !== undefined) throw new AccessTokenKeysUnavailable(timedOut(failure), { cause: failure });
      // Several keys fit (no `kid`): each is tried (jose's documented way).
      if (error instanceof errors.JWKSMultipleMatchingKeys) return (await this.tryEach(token, error, options)) ?? 'invalid';
      return noKey ? 'no-key' : 'invalid';
    }
  }

  private async tryEach(token: string, candidates: errors.JWKSMultipleMatchingKeys, options: JWTVerifyOptions): Promise<JWTPayload | undefined> {
    for await (const key of candidates as unknown as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (error) {
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) return undefined;
      }
    }
    return undefined;
  }
}

function timedOut(error: unknown): boolean {
  const name = (error as { name?: string; code?: string } | null)?.name;
  const code = (error as { code?: string } | null)?.code;
  return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}
