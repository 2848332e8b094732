import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis';
import { HealthController } from './health.controller';
import { RedisHealth } from './redis-health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    {
      provide: RedisHealth,
      inject: [REDIS],
      useFactory: (redis: Redis | null) => (redis ? new RedisHealth(redis) : null),
    },
  ],
})
export class HealthModule {}
