import { Module } from '@nestjs/common';
import { CERTIFICATE_PROVIDERS } from '../client-auth/certificate-providers';
import { TokenLookup } from '../tokens/token-lookup';
import { AuthzCheck } from './authz-check';
import { AuthzCheckController } from './authz-check.controller';

/** The enforcement check on the management port (docs/api.md §11.5). */
@Module({
  controllers: [AuthzCheckController],
  providers: [AuthzCheck, TokenLookup, ...CERTIFICATE_PROVIDERS],
})
export class AuthzModule {}
