import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ProtocolError } from '../protocol/protocol-error';

/**
 * CONTRACT §9: no ADMIN_API_TOKEN → the admin API does not exist (404); otherwise a matching
 * bearer token is required (401). Compared as SHA-256 digests in constant time.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminApiToken ? digest(config.adminApiToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw ProtocolError.notFound();
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const presented = /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (presented && timingSafeEqual(digest(presented), this.expected)) return true;
    throw new ProtocolError(401, 'invalid_client', 'admin authentication failed', {
      detail: presented ? 'wrong admin bearer token' : 'no admin bearer token',
      headers: { 'www-authenticate': 'Bearer realm="admin"' },
    });
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
