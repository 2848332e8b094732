import { Module } from '@nestjs/common';
import { ClientsController } from './clients.controller';
import { RevocationsController } from './revocations.controller';
import { TokenRegistry } from './token-registry';
import { TokensController } from './tokens.controller';

/** The operator's API on the management port (docs/api.md §9); its bearer check is `installAdminGate`. */
@Module({
  controllers: [ClientsController, TokensController, RevocationsController],
  providers: [TokenRegistry],
})
export class AdminModule {}
