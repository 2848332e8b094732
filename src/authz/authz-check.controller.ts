import { All, Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../metrics/metrics';
import { AuthzCheck } from './authz-check';
import { AUTHZ_CHECK_PATH } from './check-route';

/**
 * docs/api.md §11.5: `/authz/check` and anything under it, any method, on the management port.
 * NGINX `auth_request` and Traefik ForwardAuth call the path as configured; Envoy's `ext_authz`
 * HTTP service appends the original request's path to its `path_prefix`.
 */
@Controller(AUTHZ_CHECK_PATH)
export class AuthzCheckController {
  constructor(
    private readonly check: AuthzCheck,
    private readonly metrics: Metrics,
  ) {}

  @All(['', '*'])
  async authorize(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    let headers: Record<string, string>;
    try {
      headers = await this.check.decide(request);
    } catch (error) {
      const status = (error as { status?: number }).status;
      this.metrics.authzChecks.inc({ result: status === 401 || status === 403 ? 'deny' : 'error' });
      throw error;
    }
    this.metrics.authzChecks.inc({ result: 'allow' });
    await reply.status(200).headers(headers).send();
  }
}
