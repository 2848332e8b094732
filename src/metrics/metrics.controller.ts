import { Controller, Get, Header } from '@nestjs/common';
import { Metrics } from './metrics';

/** docs/api.md §10: Prometheus text on the management port only. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
