import { Controller, Get, Inject } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { openApiDocument, OPENAPI_PATH } from './openapi';

@Controller()
export class OpenApiController {
  private readonly document: Record<string, unknown>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.document = openApiDocument(config);
  }

  @Get(OPENAPI_PATH)
  get(): Record<string, unknown> {
    return this.document;
  }
}
