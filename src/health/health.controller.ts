import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Readiness } from './readiness';
import { RedisHealth } from './redis-health';

/** Kubernetes probes on the management port (docs/api.md §10). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly readiness: Readiness,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {}

  /** The process serves requests: nothing external is consulted, so a database outage never restarts pods. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 only while PostgreSQL (and Redis, when configured) answer within the probe budget and the process is not draining. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult | object> {
    if (this.readiness.draining) {
      reply.status(503);
      return { status: 'shutting_down' };
    }
    const [database, redis] = await Promise.all([
      this.health.check([() => this.database.pingCheck('database', { connection: this.dataSource, timeout: 2000 })]).then(
        () => true,
        (error: unknown) => {
          if (!(error instanceof ServiceUnavailableException)) throw error;
          return false;
        },
      ),
      this.redis ? this.redis.answers() : Promise.resolve(undefined),
    ]);
    const details = { database: { status: database ? 'up' : 'down' }, ...(redis === undefined ? {} : { redis: { status: redis ? 'up' : 'down' } }) };
    if (database && redis !== false) return { status: 'ok', details };
    reply.status(503).header('retry-after', '5');
    // Terminus would include the driver's message (host and port); the probe needs only the verdict.
    return { status: 'error', details };
  }
}
