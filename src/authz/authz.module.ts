import { Module } from '@nestjs/common';
import { CERTIFICATE_PROVIDERS } from '../client-auth/certificate-providers';
import { TOKEN_STANDING_PROVIDERS } from '../tokens/token-standing';
import { AuthzCheck } from './authz-check';
import { AuthzCheckController } from './authz-check.controller';

/** The enforcement check on the management port (docs/api.md §11.5). */
@Module({
  controllers: [AuthzCheckController],
  providers: [AuthzCheck, ...TOKEN_STANDING_PROVIDERS, ...CERTIFICATE_PROVIDERS],
})
export class AuthzModule {}
