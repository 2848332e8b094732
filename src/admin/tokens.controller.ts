import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProtocolError } from '../protocol/protocol-error';
import { hashToken } from '../revocation/token-hash';
import type { TokenType } from '../revocation/token-types';
import { validateEach, validateShallow } from '../protocol/validation';
import { RegisterTokensBody, TokenEntry, TokenStatusBody } from './dto';
import { TokenRegistry } from './token-registry';

/** docs/api.md §9: the authorization server (or a migration) tells the gateway which tokens exist. */
@Controller('admin/tokens')
export class TokensController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    private readonly registry: TokenRegistry,
  ) {}

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
    const [row] = (await this.db.query(
      `SELECT token_type, client_id, grant_id, consent_id,
              (revoked_at IS NULL AND expires_at > now()) AS active, revoked_at, expires_at
         FROM tokens WHERE tenant = $1 AND token_hash = $2`,
      [body.tenant, hashToken(body.token)],
    )) as Array<{ token_type: TokenType; client_id: string; grant_id: string; consent_id: string | null; active: boolean; revoked_at: Date | null; expires_at: Date }>;
    if (!row) throw ProtocolError.notFound('token is not registered');
    return { ...row, revoked_at: row.revoked_at?.toISOString() ?? null, expires_at: row.expires_at.toISOString() };
  }
}
