import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ProtocolError } from '../protocol/protocol-error';
import { validateEach, validateShallow } from '../protocol/validation';
import { hashToken } from '../revocation/token-hash';
import { TokenLookup } from '../tokens/token-lookup';
import { RegisterTokensBody, TokenEntry, TokenStatusBody } from './dto';
import { TokenRegistry } from './token-registry';

/** How far ahead of this clock an `issued_at` may be: the issuing server's clock may run ahead. */
const ISSUED_AT_SKEW_MS = 60_000;

/** docs/api.md §9: the authorization server (or a migration) tells the gateway which tokens exist. */
@Controller('admin/tokens')
export class TokensController {
  constructor(
    private readonly registry: TokenRegistry,
    private readonly lookup: TokenLookup,
  ) {}

  @Post()
  @HttpCode(201)
  async register(@Body() raw: unknown): Promise<{ registered: number }> {
    const body = validateShallow(RegisterTokensBody, raw);
    const entries = await validateEach(TokenEntry, body.tokens, 'tokens');
    // An `iat` is a past instant (RFC 7519 §4.1.6); resource servers refuse one from the future.
    const latest = Date.now() + ISSUED_AT_SKEW_MS;
    const late = entries.findIndex((entry) => entry.issued_at !== undefined && Date.parse(entry.issued_at) > Date.parse(entry.expires_at));
    if (late >= 0) throw ProtocolError.invalidRequest(`tokens[${late}].issued_at is after its expires_at`);
    const future = entries.findIndex((entry) => entry.issued_at !== undefined && Date.parse(entry.issued_at) > latest);
    if (future >= 0) throw ProtocolError.invalidRequest(`tokens[${future}].issued_at is in the future`);
    return { registered: await this.registry.register(body.tenant, entries) };
  }

  /** What is stored; `scope`, `cnf` and `issued_at` only when they were registered. */
  @Post('status')
  @HttpCode(200)
  async status(@Body() body: TokenStatusBody) {
    const row = (await this.lookup.find(body.tenant, hashToken(body.token)))?.registered;
    if (!row) throw ProtocolError.notFound('token is not registered');
    return {
      token_type: row.tokenType,
      client_id: row.clientId,
      grant_id: row.grantId,
      consent_id: row.consentId,
      active: row.active,
      revoked_at: row.revokedAt?.toISOString() ?? null,
      expires_at: row.expiresAt.toISOString(),
      ...(row.scope === null ? {} : { scope: row.scope }),
      ...(row.cnf === null ? {} : { cnf: row.cnf }),
      ...(row.issuedAt === null ? {} : { issued_at: row.issuedAt.toISOString() }),
    };
  }
}
