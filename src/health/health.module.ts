import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { HealthController } from './health.controller';
import { RedisHealth } from './redis-health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    {
      provide: RedisHealth,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.redisUrl ? new RedisHealth(config.redisUrl) : null),
    },
  ],
})
export class HealthModule {}
