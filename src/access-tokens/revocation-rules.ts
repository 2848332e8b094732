import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, ROOT_LOGGER } from '../core.module';
import { PreparedStatements } from '../database/pg-pool';
import type { RegisteredToken } from '../tokens/token-lookup';
import { CLOCK_SKEW_S } from './access-token-claims';

/** What a rule is kept beyond the longest lifetime: the `exp` skew, and as much again for the clocks of the replicas against the database's. */
const RULE_MARGIN_S = 3 * CLOCK_SKEW_S;

/**
 * docs/api.md §11.3: a bulk or consent revocation's rule, written in the revocation's own
 * transaction, after its locks (clock_timestamp, not the transaction's start: a token issued while
 * the revocation waited for a lock is covered). Kept the longest an access token lives and a
 * margin, so that it outlives every token it covers. The table's insert trigger tells every
 * replica to forget the tenant's token status (docs/api.md §11.6).
 */
export const RECORD_RULE_SQL = `
INSERT INTO revocation_rules (tenant, subject, client_id, consent_id, revoked_at, expires_at)
VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + ($5::int + ${RULE_MARGIN_S}) * interval '1 second')`;

/**
 * Whether a rule in force covers a token: every criterion it names matches (AND; a token without
 * the claim does not match a rule that names it), and the token was issued at or before the rule
 * (`iat` has whole seconds: a token issued in the rule's second counts as before it). A rule
 * names at least one criterion, so a rule that matches is found by one of the three indexes: one
 * branch each, so that a tenant with many rules costs three index probes, not a scan. A token
 * without an issue time (an upstream's may have none) is covered by every rule that matches it.
 */
const RULE_MATCHES = `tenant = $1 AND expires_at > now() AND ($5::timestamptz IS NULL OR revoked_at >= $5::timestamptz)
     AND (subject IS NULL OR subject = $2) AND (client_id IS NULL OR client_id = $3) AND (consent_id IS NULL OR consent_id = $4)`;
const RULED_OUT_SQL = `
SELECT EXISTS (SELECT 1 FROM revocation_rules WHERE subject = $2 AND ${RULE_MATCHES})
    OR EXISTS (SELECT 1 FROM revocation_rules WHERE client_id = $3 AND ${RULE_MATCHES})
    OR EXISTS (SELECT 1 FROM revocation_rules WHERE consent_id = $4 AND ${RULE_MATCHES}) AS ruled_out`;

/** The rules of every tenant (docs/api.md §11.3): read for a JWT's standing, pruned in the background. */
@Injectable()
export class RevocationRules {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  /** Whether a rule covers a token the gateway knows without its registration (a JWT, an upstream's). */
  async rulesOut(tenant: string, token: RegisteredToken): Promise<boolean> {
    const [row] = await this.statements.run<{ ruled_out: boolean }>('revgw_rules_out', RULED_OUT_SQL, [
      tenant,
      token.subject,
      token.clientId,
      token.consentId,
      token.issuedAt,
    ]);
    return row.ruled_out;
  }

  /** Rules past their time: every token they covered has expired. */
  async prune(): Promise<number> {
    return (await this.statements.run('revgw_rules_prune', 'DELETE FROM revocation_rules WHERE expires_at <= now() RETURNING 1', [])).length;
  }
}

/**
 * Drops expired rules off the hot path: once a minute (or once a lifetime, when that is shorter),
 * on every replica (a DELETE of nothing costs an index probe). A failure waits for the next round.
 */
@Injectable()
export class RulePruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private round?: Promise<unknown>;

  constructor(
    private readonly rules: RevocationRules,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(60_000, this.config.accessTokens.maxLifetimeS * 1000);
    this.timer = setInterval(() => {
      this.round ??= this.rules
        .prune()
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'revocation rule pruning failed'))
        .finally(() => (this.round = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }
}
