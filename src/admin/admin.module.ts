import { Module } from '@nestjs/common';
import { ClientRegistry } from '../client-auth/client-registry';
import { AuditLog } from '../revocation/audit-log';
import { RevocationEngine } from '../revocation/revocation-engine';
import { RevocationStore } from '../revocation/revocation-store';
import { TenantRegistry } from '../tenancy/tenant-registry';
import { ClientsController } from './clients.controller';
import { RevocationsController } from './revocations.controller';
import { TokenRegistry } from './token-registry';
import { TokensController } from './tokens.controller';
import { TokenLookup } from '../tokens/token-lookup';
import { StreamsController } from '../events/streams.controller';
import { StreamStore } from '../events/stream-store';

/** The operator's API on the management port (docs/api.md §9); its bearer check is `installAdminGate`. */
@Module({
  controllers: [ClientsController, TokensController, RevocationsController, StreamsController],
  providers: [TokenRegistry, TokenLookup, StreamStore, ClientRegistry, TenantRegistry, RevocationStore, RevocationEngine, AuditLog],
})
export class AdminModule {}
