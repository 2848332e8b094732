import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ProtocolError } from '../protocol/protocol-error';
import { hashToken } from '../revocation/token-hash';
import type { TokenType } from '../revocation/token-types';
import { AdminGuard } from './admin.guard';
import { RegisterTokensBody, TokenStatusBody, type TokenEntry } from './dto';

interface Parent {
  readonly type: TokenType;
  readonly clientId: string;
}

/**
 * CONTRACT §9: the authorization server (or a migration) tells the gateway which tokens exist.
 * Only SHA-256 hashes are stored. A batch is checked whole first, then stored in one transaction:
 * either every new token is stored or none is.
 */
@Controller('admin/tokens')
@UseGuards(AdminGuard)
export class TokensController {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  @Post()
  @HttpCode(201)
  async register(@Body() body: RegisterTokensBody): Promise<{ registered: number }> {
    const { tenant, tokens } = body;
    const hashes = tokens.map((entry) => hashToken(entry.token));
    const parents = tokens.map((entry) => (entry.refresh_token === undefined ? null : hashToken(entry.refresh_token)));
    await this.checkClients(tenant, tokens);
    await this.checkParents(tenant, tokens, hashes, parents);

    const consents = [...new Set(tokens.flatMap((entry) => entry.consent_id ?? []))];
    return this.db.transaction(async (tx: EntityManager) => {
      if (consents.length > 0) {
        await tx.query('INSERT INTO consents (tenant, consent_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
          tenant,
          consents,
        ]);
      }
      // Re-registering a token is a no-op: the first registration stands.
      const [row] = (await tx.query(
        `WITH inserted AS (
           INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, subject, parent_hash, expires_at)
           SELECT $1, * FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::timestamptz[])
           ON CONFLICT (tenant, token_hash) DO NOTHING
           RETURNING 1
         ) SELECT count(*)::int AS registered FROM inserted`,
        [
          tenant,
          hashes,
          tokens.map((entry) => entry.token_type),
          tokens.map((entry) => entry.client_id),
          tokens.map((entry) => entry.grant_id),
          tokens.map((entry) => entry.consent_id ?? null),
          tokens.map((entry) => entry.subject ?? null),
          parents,
          tokens.map((entry) => entry.expires_at),
        ],
      )) as Array<{ registered: number }>;
      return { registered: row.registered };
    });
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

  private async checkClients(tenant: string, tokens: readonly TokenEntry[]): Promise<void> {
    const wanted = [...new Set(tokens.map((entry) => entry.client_id))];
    const rows = (await this.db.query('SELECT client_id FROM clients WHERE tenant = $1 AND client_id = ANY($2::text[])', [
      tenant,
      wanted,
    ])) as Array<{ client_id: string }>;
    const known = new Set(rows.map((row) => row.client_id));
    const missing = wanted.find((clientId) => !known.has(clientId));
    if (missing !== undefined) throw ProtocolError.invalidRequest(`client ${JSON.stringify(missing)} is not registered in tenant ${tenant}`);
  }

  /**
   * `refresh_token` links an access token to its parent: a refresh token of the same client,
   * registered already or in this call. Only access tokens have parents.
   */
  private async checkParents(tenant: string, tokens: readonly TokenEntry[], hashes: Buffer[], parents: (Buffer | null)[]): Promise<void> {
    const inCall = new Map<string, Parent>();
    tokens.forEach((entry, i) => inCall.set(hashes[i].toString('hex'), { type: entry.token_type, clientId: entry.client_id }));
    const outside = [...new Set(parents.flatMap((parent) => (parent && !inCall.has(parent.toString('hex')) ? parent.toString('hex') : [])))];
    const stored = new Map<string, Parent>();
    if (outside.length > 0) {
      const rows = (await this.db.query(
        'SELECT token_hash, token_type, client_id FROM tokens WHERE tenant = $1 AND token_hash = ANY($2::bytea[])',
        [tenant, outside.map((hex) => Buffer.from(hex, 'hex'))],
      )) as Array<{ token_hash: Buffer; token_type: TokenType; client_id: string }>;
      for (const row of rows) stored.set(row.token_hash.toString('hex'), { type: row.token_type, clientId: row.client_id });
    }
    tokens.forEach((entry, i) => {
      const parentHash = parents[i];
      if (!parentHash) return;
      const where = `tokens[${i}].refresh_token`;
      if (entry.token_type !== 'access_token') throw ProtocolError.invalidRequest(`${where}: only an access token has a parent refresh token`);
      const parent = inCall.get(parentHash.toString('hex')) ?? stored.get(parentHash.toString('hex'));
      if (!parent) throw ProtocolError.invalidRequest(`${where} is not registered`);
      if (parent.type !== 'refresh_token') throw ProtocolError.invalidRequest(`${where} is not a refresh token`);
      if (parent.clientId !== entry.client_id) throw ProtocolError.invalidRequest(`${where} belongs to another client`);
    });
  }
}
