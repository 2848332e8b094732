import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ProtocolError } from '../protocol/protocol-error';
import { validateEach, validateShallow } from '../protocol/validation';
import { RegisterTokensBody, TokenEntry, TokenStatusBody } from './dto';
import { TokenRegistry } from './token-registry';

/** docs/api.md §9: the authorization server (or a migration) tells the gateway which tokens exist. */
@Controller('admin/tokens')
export class TokensController {
  constructor(private readonly registry: TokenRegistry) {}

  @Post()
  @HttpCode(201)
  async register(@Body() raw: unknown): Promise<{ registered: number }> {
    const body = validateShallow(RegisterTokensBody, raw);
    const entries = await validateEach(TokenEntry, body.tokens, 'tokens');
    return { registered: await this.registry.register(body.tenant, entries) };
  }

  @Post('status')
  @HttpCode(200)
  async status(@Body() body: TokenStatusBody) {
    const row = await this.registry.status(body.tenant, body.token);
    if (!row) throw ProtocolError.notFound('token is not registered');
    return { ...row, revoked_at: row.revoked_at?.toISOString() ?? null, expires_at: row.expires_at.toISOString() };
  }
}
