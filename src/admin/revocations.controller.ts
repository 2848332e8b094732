import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { AuditLog } from '../revocation/audit-log';
import { RevocationEngine } from '../revocation/revocation-engine';
import { BulkRevocationBody, EventsQuery } from './dto';

/**
 * docs/api.md §9: bulk revocation (account closure, client offboarding, consent withdrawal) and
 * the audit trail. A bulk revocation is one transaction, in the lock order of every revocation
 * (revocation-store.ts), audited as one event.
 */
@Controller('admin')
export class RevocationsController {
  constructor(
    private readonly engine: RevocationEngine,
    private readonly audit: AuditLog,
  ) {}

  @Post('revocations')
  @HttpCode(200)
  async revoke(@Body() body: BulkRevocationBody, @Req() request: FastifyRequest): Promise<{ revoked: number }> {
    if (body.subject === undefined && body.client_id === undefined && body.consent_id === undefined) {
      throw ProtocolError.invalidRequest('give at least one of subject, client_id, consent_id');
    }
    const { interactionId } = requestContext(request.raw)!;
    const result = await this.engine.revokeInBulk({
      tenant: body.tenant,
      subject: body.subject,
      clientId: body.client_id,
      consentId: body.consent_id,
      interactionId,
    });
    return { revoked: result.revokedAccess + result.revokedRefresh };
  }

  @Get('revocation-events')
  async events(@Query() query: EventsQuery) {
    const events = await this.audit.events({ interactionId: query.interaction_id, clientId: query.client_id, tenant: query.tenant, limit: query.limit });
    return { events: events.map((event) => ({ ...event, at: event.at.toISOString() })) };
  }
}
