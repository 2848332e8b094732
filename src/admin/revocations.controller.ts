import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { retryingConflicts } from '../database/db-errors';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { BulkRevocationBody, EventsQuery } from './dto';

/**
 * README "Management API": bulk revocation (account closure, client offboarding, consent
 * withdrawal) and the audit trail. A bulk revocation is one statement: tokens, consent and its
 * one audit event. A withdrawal of a consent alone is RELATED_CONSENT: the consent's tokens, the
 * refresh tokens its access tokens came from, and the consent itself. The lock order and the
 * family guard are the revocation statement's (batch-statement.ts): tokens in hash order, then
 * the consent, so it cannot deadlock against revocations (one that meets its rows waits at most
 * the lock timeout and answers 503, to be retried); a token registered under a revoked row
 * meanwhile makes it abort and run again, as does a deadlock or serialization failure.
 */
@Controller('admin')
export class RevocationsController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  @Post('revocations')
  @HttpCode(200)
  async revoke(@Body() body: BulkRevocationBody, @Req() request: FastifyRequest): Promise<{ revoked: number }> {
    const criteria = (['subject', 'client_id', 'consent_id'] as const).filter((field) => body[field] !== undefined);
    if (criteria.length === 0) throw ProtocolError.invalidRequest('give at least one of subject, client_id, consent_id');
    const [tenant] = (await this.db.query('SELECT 1 FROM tenants WHERE name = $1', [body.tenant])) as unknown[];
    if (!tenant) throw ProtocolError.invalidRequest(`unknown tenant ${body.tenant}`);

    // Several criteria combine with AND; each column has its own (tenant, column) index.
    const params: unknown[] = [body.tenant];
    const where = criteria.map((field) => `${field} = $${params.push(body[field])}`).join(' AND ');
    // The consent itself is withdrawn only when the request is about the consent alone.
    const consentOnly = criteria.length === 1 && criteria[0] === 'consent_id';
    const interactionId = requestContext(request.raw)!.interactionId;
    const [row] = (await retryingConflicts(() =>
      this.db.query(
        `WITH matched AS MATERIALIZED (
           SELECT token_hash, token_type, parent_hash, revoked_at, xmin::text AS version FROM tokens WHERE tenant = $1 AND ${where}
         ), members AS (
           SELECT token_hash, version FROM matched WHERE revoked_at IS NULL
           UNION
           SELECT p.token_hash, p.xmin::text FROM matched m JOIN tokens p ON p.tenant = $1 AND p.token_hash = m.parent_hash
            WHERE ${consentOnly ? 'true' : 'false'} AND m.token_type = 'access_token' AND p.revoked_at IS NULL
         ), victims AS (
           SELECT t.token_hash, t.xmin::text <> m.version AS changed FROM members m JOIN tokens t ON t.tenant = $1 AND t.token_hash = m.token_hash
            WHERE t.revoked_at IS NULL
            ORDER BY t.token_hash FOR UPDATE OF t
         ), revoked AS (
           UPDATE tokens t SET revoked_at = now() FROM victims v
            WHERE t.tenant = $1 AND t.token_hash = v.token_hash AND t.revoked_at IS NULL
              AND revgw_family_unchanged((SELECT bool_or(changed) FROM victims))
           RETURNING t.token_type
         ), consent_seen AS (
           SELECT consent_id, xmin::text AS version FROM consents
            WHERE ${consentOnly ? 'tenant = $1 AND consent_id = $2' : 'false'} AND revoked_at IS NULL
         ), consent_locked AS (
           SELECT k.consent_id, k.xmin::text <> s.version AS changed FROM consents k JOIN consent_seen s ON k.consent_id = s.consent_id
            WHERE k.tenant = $1 AND k.revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
            FOR UPDATE OF k
         ), consent AS (
           UPDATE consents k SET revoked_at = now() FROM consent_locked l
            WHERE k.tenant = $1 AND k.consent_id = l.consent_id AND k.revoked_at IS NULL
              AND revgw_family_unchanged((SELECT bool_or(changed) FROM consent_locked))
           RETURNING 1
         ), event AS (
           INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, revoked, outcome)
           SELECT $${params.length + 1}, $1, $${params.length + 2}, 'admin', (SELECT count(*) FROM revoked), 'revoked'
            WHERE (SELECT count(*) FROM consent) >= 0
           RETURNING revoked
         ) SELECT revoked,
                  (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS access,
                  (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS refresh
             FROM event`,
        [...params, interactionId, body.client_id ?? null],
      ),
    )) as Array<{ revoked: number; access: number; refresh: number }>;
    this.metrics.revoked(row, 'admin');
    return { revoked: row.revoked };
  }

  @Get('revocation-events')
  async events(@Query() query: EventsQuery) {
    const params: unknown[] = [];
    const conditions = (['interaction_id', 'client_id', 'tenant'] as const)
      .filter((field) => query[field] !== undefined)
      .map((field) => `${field} = $${params.push(query[field])}`);
    const events = (await this.db.query(
      `SELECT at, interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip
         FROM revocation_events ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $${params.push(query.limit)}`,
      params,
    )) as Array<{ at: Date }>;
    return { events: events.map((event) => ({ ...event, at: event.at.toISOString() })) };
  }
}
