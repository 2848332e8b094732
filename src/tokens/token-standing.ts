import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenVerifier, type AccessTokenTrust } from '../access-tokens/access-token-verifier';
import type { AccessTokenClaims } from '../access-tokens/access-token-claims';
import { RevocationRules } from '../access-tokens/revocation-rules';
import { UpstreamIntrospection, type UpstreamActive } from '../introspection/upstream-introspection';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { hashToken } from '../revocation/token-hash';
import { NEVER_EXPIRES, TokenLookup, type Confirmation, type RegisteredToken, type TenantLookup } from './token-lookup';
import { TokenStatusCache } from './token-status-cache';

/** A token the gateway knows, with the hash it is stored and cached under. */
export interface Standing {
  readonly hash: Buffer;
  readonly token?: RegisteredToken;
}

/**
 * What a presented token is (docs/api.md §11.2–§11.4): a registered token (or a token recorded
 * when it was revoked), else a JWT access token the tenant's authorization server signed, whose
 * standing is what the rules say, else — with the overlay — what the upstream's introspection
 * says; else unknown. Introspection and the check ask `of` (from memory when it can be trusted,
 * docs/api.md §11.6); a revocation asks `read` (the database and the upstream, and no rules: a
 * token that is ruled out is still its client's to revoke).
 *
 * An unreachable key set or upstream is thrown (standing-failures.ts), never taken for an unknown token.
 */
@Injectable()
export class TokenStanding {
  constructor(
    private readonly lookup: TokenLookup,
    private readonly verifier: AccessTokenVerifier,
    private readonly rules: RevocationRules,
    private readonly status: TokenStatusCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UpstreamIntrospection) private readonly upstream: UpstreamIntrospection | null,
  ) {}

  /** Whether a tenant's unknown tokens are asked of the upstream (docs/api.md §11.4): its revocations then read every token first. */
  overlayFor(tenant: string): boolean {
    return this.upstream !== null && tenant === 'default';
  }

  async of(tenant: string, token: string, interactionId: string): Promise<RegisteredToken | undefined> {
    const hash = hashToken(token);
    return this.status.find(tenant, hash, () => this.load(tenant, token, hash, interactionId, true));
  }

  async read(tenant: string, token: string, interactionId: string): Promise<Standing> {
    const hash = hashToken(token);
    return { hash, token: await this.load(tenant, token, hash, interactionId, false) };
  }

  private async load(tenant: string, token: string, hash: Buffer, interactionId: string, withRules: boolean): Promise<RegisteredToken | undefined> {
    const found = await this.lookup.find(tenant, hash);
    if (!found || found.registered) return found?.registered;
    const trust = this.trustOf(tenant, found);
    // A revocation is the one read without the rules (a ruled-out token is its client's to revoke).
    const claims = trust && (await this.verifier.verify(token, trust, { forRevocation: !withRules }));
    let known: RegisteredToken | undefined;
    if (claims) {
      known = jwtAccessToken(claims);
    } else if (this.overlayFor(tenant)) {
      // docs/api.md §11.4: neither registered, nor a known JWT, nor recorded as revoked; the
      // upstream is the `default` tenant's authorization server.
      const active = await this.upstream!.introspect(token, interactionId);
      if (active) known = upstreamToken(active, Date.now() + (active.size <= MAX_KEPT_ANSWER_BYTES ? this.config.introspectionOverlay!.cacheMs : 0));
    }
    // A bulk or consent revocation's rule covers these tokens (docs/api.md §11.3).
    if (known && withRules && (await this.rules.rulesOut(tenant, known))) return { ...known, active: false };
    return known;
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
function jwtAccessToken(claims: AccessTokenClaims): RegisteredToken {
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
    active: true,
    tenantIssuer: claims.iss,
  };
}

/** An upstream answer larger than this is not kept in memory (the cache is bounded in entries, each should stay small). */
const MAX_KEPT_ANSWER_BYTES = 4096;

/**
 * An upstream's active answer as a token the gateway knows (docs/api.md §11.4): the answer itself
 * to pass on, and what the check and a revocation read of it. Kept in memory until `cacheUntil`
 * (INTROSPECTION_CACHE_MS) at most, and never past its `exp`.
 */
function upstreamToken(active: UpstreamActive, cacheUntil: number): RegisteredToken {
  const text = (name: string): string | null => (typeof active.answer[name] === 'string' ? (active.answer[name] as string) : null);
  const iat = active.answer.iat;
  return {
    origin: 'upstream',
    tokenType: active.tokenType,
    clientId: active.clientId ?? '',
    grantId: null,
    ...(text('jti') !== null ? { jti: text('jti')! } : {}),
    consentId: text('consent_id'),
    subject: text('sub'),
    scope: text('scope'),
    cnf: confirmationOf(active.answer.cnf),
    issuedAt: typeof iat === 'number' && Number.isFinite(iat) ? new Date(iat * 1000) : null,
    registeredAt: new Date(),
    expiresAt: active.exp === undefined ? NEVER_EXPIRES : new Date(active.exp * 1000),
    revokedAt: null,
    active: true,
    tenantIssuer: text('iss'),
    upstreamAnswer: active.answer,
    cacheUntil,
  };
}

/**
 * The confirmation members the check enforces or passes on, when the upstream's `cnf` has them
 * as strings; null for any other `cnf` (the check then refuses the token: a binding it cannot
 * verify is not ignored).
 */
function confirmationOf(value: unknown): Confirmation | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { 'x5t#S256': x5t, jkt } = value as Record<string, unknown>;
  if ((x5t !== undefined && typeof x5t !== 'string') || (jkt !== undefined && typeof jkt !== 'string')) return null;
  const cnf = { ...(typeof x5t === 'string' ? { 'x5t#S256': x5t } : {}), ...(typeof jkt === 'string' ? { jkt } : {}) };
  return Object.keys(cnf).length > 0 ? cnf : null;
}

/** What a module that asks for a token's standing provides (the key cache and the upstream client are shared services). */
export const TOKEN_STANDING_PROVIDERS = [TokenStanding, TokenLookup, AccessTokenVerifier, RevocationRules];
