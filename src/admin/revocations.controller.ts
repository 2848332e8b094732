import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { retryingConflicts } from '../database/db-errors';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { BulkRevocationBody, EventsQuery } from './dto';

/**
 * CONTRACT §9: bulk revocation (account closure, client offboarding, consent withdrawal) and the
 * audit trail. A bulk revocation is one statement: tokens, consent and its one audit event. It
 * locks the tokens in token-hash order, as revocations do, so it cannot deadlock against them
 * (a revocation that meets its rows waits at most the lock timeout and answers 503, to be retried);
 * a deadlock or serialization failure it still meets is retried.
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
    const [row] = (await retryingConflicts(() => this.db.query(
      `WITH victims AS (
         SELECT token_hash FROM tokens WHERE tenant = $1 AND ${where} AND revoked_at IS NULL ORDER BY token_hash FOR UPDATE
       ), revoked AS (
         UPDATE tokens t SET revoked_at = now() FROM victims v
          WHERE t.tenant = $1 AND t.token_hash = v.token_hash AND t.revoked_at IS NULL RETURNING t.token_type
       ), consent AS (
         UPDATE consents SET revoked_at = now()
          WHERE ${consentOnly ? 'tenant = $1 AND consent_id = $2' : 'false'} AND revoked_at IS NULL RETURNING 1
       ), event AS (
         INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, revoked, outcome)
         SELECT $${params.push(interactionId)}, $1, $${params.push(body.client_id ?? null)}, 'admin',
                (SELECT count(*) FROM revoked), 'revoked'
         RETURNING revoked
       ) SELECT revoked,
                (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS access,
                (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS refresh
           FROM event`,
      params,
    ))) as Array<{ revoked: number; access: number; refresh: number }>;
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
