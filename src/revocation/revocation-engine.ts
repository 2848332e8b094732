import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { failsEveryRequest, retryingConflicts } from '../database/db-errors';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { TenantRegistry } from '../tenancy/tenant-registry';
import type { RegisteredToken } from '../tokens/token-lookup';
import { TokenStatusCache } from '../tokens/token-status-cache';
import { SetSignal } from '../events/set-signal';
import { GroupCommit, statementSlots } from '../database/group-commit';
import type { RevocationLevel } from './levels';
import {
  RevocationStore,
  type BulkRevocationRequest,
  type ConsentRevocationRequest,
  type RevocationOutcome,
  type RevocationRequest,
  type RevocationRow,
} from './revocation-store';
import type { TokenType } from './token-types';

/** The outbox row written for a revocation to propagate (own or unknown tokens, never another client's). */
export interface PendingPropagation {
  readonly id: string;
  readonly tokenType: TokenType | null;
  readonly level: RevocationLevel | null;
}

export interface RevocationResult {
  readonly outcome: RevocationOutcome;
  readonly tokenType: TokenType | null;
  /** Tokens newly revoked by this request (0 when repeated: revocation is idempotent). */
  readonly revokedAccess: number;
  readonly revokedRefresh: number;
  /** Whether the named token itself was among those newly revoked (the rest were cascaded). */
  readonly presentedRevoked: boolean;
  readonly propagation?: PendingPropagation;
}

/**
 * Every revocation goes through here, into the revocation statements (revocation-store.ts):
 * a client's tokens by group commit, a CDR arrangement, and the operator's bulk revocation. A
 * deadlock or serialization failure (the family check of the lock order) runs the statement
 * again; every token newly revoked is counted in the metrics.
 */
@Injectable()
export class RevocationEngine {
  private readonly group: GroupCommit<RevocationRequest, RevocationResult>;

  constructor(
    private readonly store: RevocationStore,
    private readonly tenants: TenantRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: Metrics,
    private readonly status: TokenStatusCache,
    private readonly signal: SetSignal,
  ) {
    // Half the pool for revocation statements: the rest stays free for client lookups, jti
    // inserts and outbox updates, and requests beyond that wait for the next batch instead of
    // queueing for a connection one by one.
    const slots = statementSlots(config, 1 / 2);
    this.group = new GroupCommit(
      async (request) => (await this.revokeMany([request]))[0],
      async (requests) => {
        metrics.revocationBatchSize.observe(requests.length);
        return this.revokeMany(requests);
      },
      failsEveryRequest,
      slots,
      config.database.statementTimeoutMs,
      () => ProtocolError.temporarilyUnavailable('revocation batch retry budget spent'),
    );
  }

  /** One revocation; under load it shares its statement with others (group commit). */
  async revoke(request: RevocationRequest): Promise<RevocationResult> {
    const result = await this.forgettingAfter(request.tenant, () => this.group.submit(request));
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: result.presentedRevoked ? result.tokenType : null });
    return result;
  }

  /** An unknown arrangement's revocation revokes nothing registered but records a rule (docs/api.md §11.3): the tenant's JWTs are forgotten. */
  async revokeConsent(request: ConsentRevocationRequest): Promise<RevocationResult> {
    const result = toResult(await this.forgettingAfter(request.tenant, () => retryingConflicts(() => this.store.revokeConsent(request))));
    if (result.outcome === 'unknown') this.status.forgetJwts(request.tenant);
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: null });
    return result;
  }

  /**
   * A token nobody registered — a JWT access token (docs/api.md §11.3), or one the upstream said is
   * active (docs/api.md §11.4): one statement of its own, outside the group commit.
   */
  async revokeUnregistered(request: RevocationRequest, token: RegisteredToken): Promise<RevocationResult> {
    const result = toResult(await this.forgettingAfter(request.tenant, () => this.store.revokeUnregistered(request, token)));
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, { presented: result.presentedRevoked ? token.tokenType : null });
    return result;
  }

  /** docs/api.md §9 `POST /admin/revocations`, in a tenant that exists (else 400). */
  async revokeInBulk(request: BulkRevocationRequest): Promise<RevocationResult> {
    if (!(await this.tenants.exists(request.tenant))) throw ProtocolError.invalidRequest(`unknown tenant ${request.tenant}`);
    const result = toResult(await this.forgettingAfter(request.tenant, () => retryingConflicts(() => this.store.revokeInBulk(request))));
    this.metrics.revoked({ access: result.revokedAccess, refresh: result.revokedRefresh }, 'admin');
    return result;
  }

  /**
   * docs/api.md §11.6: once a revocation has run, and before it is answered, this process forgets
   * its tenant's token status, so that introspection and the check here never answer from before
   * it. Also when it revoked nothing new (a retry after a lost answer: the first attempt may have
   * committed) and when it failed (it may have committed all the same); not for an unknown token
   * or another client's, which changed nothing. Other replicas hear of it
   * from the change feed, token by token.
   */
  private async forgettingAfter<T extends { outcome: RevocationOutcome }>(tenant: string, revocation: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await revocation();
    } catch (error) {
      this.status.forgetTenant(tenant);
      throw error;
    }
    // An unknown token or another client's changed nothing.
    if (result.outcome === 'revoked') {
      this.status.forgetTenant(tenant);
      // docs/api.md §12.4: its security events, if it made any, go at once.
      this.signal.committed();
    }
    return result;
  }

  private async revokeMany(requests: RevocationRequest[]): Promise<RevocationResult[]> {
    const rows = await retryingConflicts(() => this.store.revokeTokens(requests));
    // One row per request, by position (idx is 1-based); anything else is a defect, not an answer.
    if (rows.length !== requests.length || rows.some((row, i) => row.idx !== i + 1)) {
      throw new Error(`revocation statement answered ${rows.length} rows for ${requests.length} requests`);
    }
    return rows.map(toResult);
  }
}

function toResult(row: RevocationRow): RevocationResult {
  return {
    outcome: row.outcome,
    tokenType: row.token_type,
    revokedAccess: row.revoked_access,
    revokedRefresh: row.revoked_refresh,
    presentedRevoked: row.presented_revoked,
    ...(row.outbox_id ? { propagation: { id: row.outbox_id, tokenType: row.outbox_token_type, level: row.outbox_level } } : {}),
  };
}
