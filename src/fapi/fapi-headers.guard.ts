import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Metrics } from '../metrics/metrics';
import { ProtocolError } from '../protocol/protocol-error';
import { requestContext } from '../protocol/request-context';
import { checkFapiHeaders } from './fapi-headers';

/**
 * docs/api.md §4: the FAPI headers are optional on every profile, and validated when present —
 * before client authentication, so a malformed request costs no database or crypto work.
 */
@Injectable()
export class FapiHeadersGuard implements CanActivate {
  constructor(private readonly metrics: Metrics) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const result = checkFapiHeaders(request.headers);
    if ('invalid' in result) {
      this.metrics.fapiHeaderRejections.inc({ header: result.invalid });
      throw ProtocolError.invalidRequest(`${result.invalid} is malformed`);
    }
    requestContext(request.raw)!.psuIp = result.customerIp;
    return true;
  }
}
