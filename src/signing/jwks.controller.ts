import { Controller, Get, Header } from '@nestjs/common';
import { SigningKeys, type PublicJwk } from './signing-keys';

export const JWKS_PATH = '/jwks.json';

/**
 * docs/api.md §13: the gateway's public signing keys, the current one first. RFC 7517 §8.5's
 * media type, which oauth4webapi, jose and Nimbus all accept (as they accept application/json).
 * Cached for 5 minutes, unlike every other public answer (§3): the set changes only at a restart
 * with new keys, and a verifier meeting an unknown `kid` fetches it again.
 */
@Controller()
export class JwksController {
  constructor(private readonly signingKeys: SigningKeys) {}

  @Get(JWKS_PATH)
  @Header('content-type', 'application/jwk-set+json')
  @Header('cache-control', 'public, max-age=300')
  get(): { keys: PublicJwk[] } {
    return this.signingKeys.jwks();
  }
}
