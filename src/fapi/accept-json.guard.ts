import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/protocol-error';
import { acceptsJson } from './accept';

/** docs/api.md §4: on the fapi profile an `Accept` that refuses JSON is a 406, before client authentication. */
@Injectable()
export class AcceptJsonGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const accept = context.switchToHttp().getRequest<FastifyRequest>().headers.accept;
    if (!acceptsJson(accept)) throw new ProtocolError('not_acceptable', 'the response is only available as application/json');
    return true;
  }
}
