import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';

/** One audited revocation request (docs/api.md §9 `GET /admin/revocation-events`). */
export interface RevocationEvent {
  at: Date;
  interaction_id: string;
  tenant: string;
  client_id: string | null;
  profile: string;
  token_type: string | null;
  level: string | null;
  revoked: number;
  outcome: string;
  psu_ip: string | null;
}

export interface EventFilter {
  readonly interactionId?: string;
  readonly clientId?: string;
  readonly tenant?: string;
  readonly limit: number;
}

/**
 * Every criterion given ($1 interaction id, $2 client, $3 tenant), the absent ones NULL; newest
 * first. The interaction id and the client have their own indexes, which a custom plan uses once
 * it has folded the absent criteria away.
 */
const EVENTS_SQL = `
SELECT at, interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip
  FROM revocation_events
 WHERE ($1::uuid IS NULL OR interaction_id = $1) AND ($2::text IS NULL OR client_id = $2) AND ($3::text IS NULL OR tenant = $3)
 ORDER BY id DESC LIMIT $4`;

/**
 * The audit trail, as the operator reads it. Its rows are written by the revocation statements
 * themselves (revocation-store.ts), one per request, in the same transaction as the revocation.
 */
@Injectable()
export class AuditLog {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  /** The newest events matching every criterion given, planned for those criteria (pg-pool.ts `customPlans`). */
  events(filter: EventFilter): Promise<RevocationEvent[]> {
    return this.statements.transaction(
      (run) =>
        run<RevocationEvent>('revgw_audit_events', EVENTS_SQL, [filter.interactionId ?? null, filter.clientId ?? null, filter.tenant ?? null, filter.limit]),
      { customPlans: true },
    );
  }
}
