import { Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { ClientsController } from './clients.controller';
import { RevocationsController } from './revocations.controller';
import { TokenRegistry } from './token-registry';
import { TokensController } from './tokens.controller';

/** The operator's API on the management port (CONTRACT §9). */
@Module({
  controllers: [ClientsController, TokensController, RevocationsController],
  providers: [AdminGuard, TokenRegistry],
})
export class AdminModule {}
