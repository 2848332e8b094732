import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenVerifier, type AccessTokenTrust } from '../access-tokens/access-token-verifier';
import type { AccessTokenClaims } from '../access-tokens/access-token-claims';
import { RevocationRules } from '../access-tokens/revocation-rules';
import { KeySets } from '../client-auth/key-sets';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { hashToken } from '../revocation/token-hash';
import { TokenLookup, type RegisteredToken, type TenantLookup } from './token-lookup';
import { TokenStatusCache } from './token-status-cache';

/** A token the gateway knows, with the hash it is stored and cached under. */
export interface Standing {
  readonly hash: Buffer;
  readonly token?: RegisteredToken;
}

/**
 * What a presented token is (docs/api.md §11.2, §11.3): a registered token (or a JWT recorded
 * when it was revoked), else a JWT access token the tenant's authorization server signed, whose
 * standing is what the rules say; else unknown. Introspection and the check ask `of` (from
 * memory when it can be trusted, docs/api.md §11.6); a revocation asks `read` (the database, and
 * no rules: a token that is ruled out is still its client's to revoke).
 *
 * An unreachable key set is thrown (AccessTokenKeysUnavailable), never taken for an unknown token.
 */
@Injectable()
export class TokenStanding {
  constructor(
    private readonly lookup: TokenLookup,
    private readonly verifier: AccessTokenVerifier,
    private readonly rules: RevocationRules,
    private readonly status: TokenStatusCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async of(tenant: string, token: string): Promise<RegisteredToken | undefined> {
    const hash = hashToken(token);
    return this.status.find(tenant, hash, () => this.load(tenant, token, hash, true));
  }

  async read(tenant: string, token: string): Promise<Standing> {
    const hash = hashToken(token);
    return { hash, token: await this.load(tenant, token, hash, false) };
  }

  private async load(tenant: string, token: string, hash: Buffer, withRules: boolean): Promise<RegisteredToken | undefined> {
    const found = await this.lookup.find(tenant, hash);
    if (!found || found.registered) return found?.registered;
    const trust = this.trustOf(tenant, found);
    if (!trust) return undefined;
    // A revocation is the one read without the rules (a ruled-out token is its client's to revoke).
    const claims = await this.verifier.verify(token, trust, { forRevocation: !withRules });
    if (!claims) return undefined;
    const ruledOut = withRules && (await this.rules.rulesOut(tenant, claims));
    return jwtAccessToken(claims, !ruledOut);
  }

  /**
   * docs/api.md §11.3: a tenant's access-token keys and `iss`; for `default`, what the tenant
   * says, else ACCESS_TOKEN_JWKS_URI, and ACCESS_TOKEN_ISSUER, else its issuer, else ISSUER. A
   * tenant without an issuer accepts no JWT: nothing would tell its tokens from another tenant's.
   */
  private trustOf(tenant: string, found: TenantLookup): AccessTokenTrust | undefined {
    const settings = this.config.accessTokens;
    const isDefault = tenant === 'default';
    const jwksUri = found.accessTokenJwksUri ?? (isDefault ? settings.jwksUri : undefined);
    const issuer = isDefault ? (settings.issuer ?? found.issuer ?? this.config.issuer) : found.issuer;
    return jwksUri && issuer ? { jwksUri, issuer } : undefined;
  }
}

/** A verified JWT access token as a token the gateway knows: no grant, its own `iss`, seen now. */
function jwtAccessToken(claims: AccessTokenClaims, active: boolean): RegisteredToken {
  return {
    origin: 'jwt',
    tokenType: 'access_token',
    clientId: claims.clientId,
    grantId: null,
    ...(claims.jti !== undefined ? { jti: claims.jti } : {}),
    consentId: claims.consentId ?? null,
    subject: claims.sub ?? null,
    scope: claims.scope ?? null,
    cnf: claims.cnf ?? null,
    issuedAt: new Date(claims.iat * 1000),
    registeredAt: new Date(),
    expiresAt: new Date(claims.exp * 1000),
    revokedAt: null,
    active,
    tenantIssuer: claims.iss,
  };
}

/** What a module that asks for a token's standing provides (each application has its own key cache). */
export const TOKEN_STANDING_PROVIDERS = [TokenStanding, TokenLookup, AccessTokenVerifier, RevocationRules, KeySets];
