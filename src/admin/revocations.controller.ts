import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { retryingConflicts } from '../database/db-errors';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { BulkRevocationBody, EventsQuery } from './dto';

/**
 * docs/api.md §9: bulk revocation (account closure, client offboarding, consent
 * withdrawal) and the audit trail. A bulk revocation is one statement: tokens, consent and its
 * one audit event. A withdrawal of a consent alone is RELATED_CONSENT: the consent's tokens, the
 * refresh tokens its access tokens came from, and the consent itself. The lock order and the
 * family check are the revocation statement's (batch-statement.ts): the consent first, then
 * tokens in hash order, so it cannot deadlock against revocations (one that meets its rows waits
 * at most the lock timeout and answers 503, to be retried). A deadlock or serialization failure
 * is retried.
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
    const statement = `WITH matched AS MATERIALIZED (
           SELECT token_hash, token_type, parent_hash, family_version, revoked_at IS NULL AS live FROM tokens WHERE tenant = $1 AND ${where}
         ), members AS (
           SELECT token_hash, family_version, live FROM matched
           UNION
           SELECT p.token_hash, p.family_version, p.revoked_at IS NULL FROM matched m JOIN tokens p ON p.tenant = $1 AND p.token_hash = m.parent_hash
            WHERE ${consentOnly ? 'true' : 'false'} AND m.token_type = 'access_token'
         ), victims AS (
           SELECT t.token_hash, t.family_version <> m.family_version AS changed FROM members m JOIN tokens t ON t.tenant = $1 AND t.token_hash = m.token_hash
            WHERE m.live
            ORDER BY t.token_hash FOR UPDATE OF t
         ), unlocked AS (
           -- The consent exists now but did not when it was to be locked (created in between).
           SELECT 1 FROM consents WHERE ${consentOnly ? 'tenant = $1 AND consent_id = $2' : 'false'} AND revoked_at IS NULL AND NOT $${params.length + 3}::boolean
         ), revoked AS (
           UPDATE tokens t SET revoked_at = now() FROM victims v
            WHERE t.tenant = $1 AND t.token_hash = v.token_hash AND t.revoked_at IS NULL
              AND revgw_family_unchanged((SELECT bool_or(changed) FROM victims) OR EXISTS (SELECT 1 FROM unlocked))
           RETURNING t.token_type
         ), consent AS (
           UPDATE consents SET revoked_at = now()
            WHERE ${consentOnly ? 'tenant = $1 AND consent_id = $2' : 'false'} AND revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
              AND revgw_family_unchanged(EXISTS (SELECT 1 FROM unlocked))
           RETURNING 1
         ), event AS (
           INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, revoked, outcome)
           SELECT $${params.length + 1}, $1, $${params.length + 2}, 'admin', (SELECT count(*) FROM revoked), 'revoked'
            WHERE (SELECT count(*) FROM consent) >= 0
           RETURNING revoked
         ) SELECT revoked,
                  (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS access,
                  (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS refresh
             FROM event`;
    const [row] = (await retryingConflicts(() =>
      this.db.transaction(async (tx) => {
        // Planned for this request's values, not the connection's generic plan (data-source-options):
        // client_id is skewed by nature (a few large TPPs, many small ones), and a generic plan made
        // for the average client scans the whole table to offboard a small one (≈0.6 s at 340k
        // tokens, where the index takes 3 ms). Planning costs ~2 ms, nothing at admin rates.
        await tx.query('SET LOCAL plan_cache_mode = force_custom_plan');
        // Everything it will revoke is locked first, in the lock order of batch-statement.ts: the
        // consent of a withdrawal, then the live tokens matched, in hash order. The statement then
        // sees every token registered before those locks, and a registration after them waits for
        // the commit and finds its family revoked. (Optimistically, a client that keeps getting
        // tokens could never be offboarded: some refresh token's family would always have grown.)
        const locked = consentOnly
          ? ((await tx.query('SELECT 1 FROM consents WHERE tenant = $1 AND consent_id = $2 AND revoked_at IS NULL FOR UPDATE', [body.tenant, body.consent_id])) as unknown[]).length > 0
          : false;
        await tx.query(`SELECT 1 FROM tokens WHERE tenant = $1 AND ${where} AND revoked_at IS NULL ORDER BY token_hash FOR UPDATE`, params);
        return tx.query(statement, [...params, interactionId, body.client_id ?? null, locked]);
      }),
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
