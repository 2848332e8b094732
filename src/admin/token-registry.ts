import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ProtocolError } from '../protocol/protocol-error';
import { hashToken } from '../revocation/token-hash';
import type { TokenType } from '../revocation/token-types';
import type { TokenEntry } from './dto';

interface Registration {
  /** Position in the request, for error messages. */
  readonly index: number;
  readonly entry: TokenEntry;
  readonly hash: Buffer;
  readonly parent: Buffer | null;
  /** The entry's consent, or the one inherited from its refresh token. */
  consentId?: string;
}

interface Known {
  readonly type: TokenType;
  readonly clientId: string;
  readonly consentId?: string;
}

/**
 * Stores what the authorization server issued (README "Management API", POST /admin/tokens). A
 * batch is checked whole inside one transaction, so either every new token is stored or none is.
 *
 * The invariants the revocation cascades rely on are enforced here: a parent is a refresh token
 * of the same client, a consent belongs to one client, and what is already stored wins over what
 * a batch says about the same token (re-registering is a no-op).
 *
 * A registration serialises with the revocations of the families it adds to: before reading a
 * parent refresh token or a consent it updates the row (a no-op update: it locks the row and
 * gives it a new version) and keeps it locked until it commits, tokens in hash order, then
 * consents in id order, as the revocation statements lock them. A revocation that locked the row
 * first has committed by then, and the new token is born revoked; one that chose its victims
 * before this commit finds the row's version moved and runs again (batch-statement.ts).
 */
@Injectable()
export class TokenRegistry {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async register(tenant: string, entries: readonly TokenEntry[]): Promise<number> {
    const batch = uniqueRegistrations(entries);
    return this.db.transaction(async (tx) => {
      await checkClients(tx, tenant, batch);
      await checkParents(tx, tenant, batch);
      await claimConsents(tx, tenant, batch);
      // A token registered under a revoked parent or consent is born revoked: the cascade that
      // revoked them would have caught it had it existed then.
      const [row] = (await tx.query(
        `WITH inserted AS (
           INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, subject, parent_hash, expires_at, revoked_at)
           SELECT $1, n.hash, n.type, n.client_id, n.grant_id, n.consent_id, n.subject, n.parent, n.expires_at,
                  CASE WHEN p.revoked_at IS NOT NULL OR c.revoked_at IS NOT NULL THEN now() END
             FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::timestamptz[])
                  AS n(hash, type, client_id, grant_id, consent_id, subject, parent, expires_at)
             LEFT JOIN tokens p ON p.tenant = $1 AND p.token_hash = n.parent
             LEFT JOIN consents c ON c.tenant = $1 AND c.consent_id = n.consent_id
           ON CONFLICT (tenant, token_hash) DO NOTHING
           RETURNING 1
         ) SELECT count(*)::int AS registered FROM inserted`,
        [
          tenant,
          batch.map((r) => r.hash),
          batch.map((r) => r.entry.token_type),
          batch.map((r) => r.entry.client_id),
          batch.map((r) => r.entry.grant_id),
          batch.map((r) => r.consentId ?? null),
          batch.map((r) => r.entry.subject ?? null),
          batch.map((r) => r.parent),
          batch.map((r) => r.entry.expires_at),
        ],
      )) as Array<{ registered: number }>;
      return row.registered;
    });
  }
}

/** The same token twice in one call is fine when both say the same thing, and a 400 otherwise. */
function uniqueRegistrations(entries: readonly TokenEntry[]): Registration[] {
  const byHash = new Map<string, Registration>();
  entries.forEach((entry, i) => {
    const hash = hashToken(entry.token);
    const key = hash.toString('hex');
    const seen = byHash.get(key);
    if (!seen) {
      byHash.set(key, {
        index: i,
        entry,
        hash,
        parent: entry.refresh_token === undefined ? null : hashToken(entry.refresh_token),
        consentId: entry.consent_id,
      });
    } else if (!sameRegistration(seen.entry, entry)) {
      throw ProtocolError.invalidRequest(`tokens[${i}] repeats an earlier token of this call with different attributes`);
    }
  });
  return [...byHash.values()];
}

function sameRegistration(a: TokenEntry, b: TokenEntry): boolean {
  const fields = ['token_type', 'client_id', 'grant_id', 'consent_id', 'subject', 'refresh_token'] as const;
  return fields.every((field) => a[field] === b[field]) && Date.parse(a.expires_at) === Date.parse(b.expires_at);
}

async function checkClients(tx: EntityManager, tenant: string, batch: readonly Registration[]): Promise<void> {
  const wanted = [...new Set(batch.map((r) => r.entry.client_id))];
  const rows = (await tx.query('SELECT client_id FROM clients WHERE tenant = $1 AND client_id = ANY($2::text[])', [tenant, wanted])) as Array<{
    client_id: string;
  }>;
  const known = new Set(rows.map((row) => row.client_id));
  const missing = wanted.find((clientId) => !known.has(clientId));
  if (missing !== undefined) throw ProtocolError.invalidRequest(`client ${JSON.stringify(missing)} is not registered in tenant ${tenant}`);
}

/**
 * `refresh_token` links an access token to its parent: a refresh token of the same client. A child
 * of a refresh token under a consent belongs to that consent (inherited when absent, a 400 when
 * different), so that revoking a consent reaches every token of the family.
 */
async function checkParents(tx: EntityManager, tenant: string, batch: Registration[]): Promise<void> {
  const parents = batch.flatMap((r) => r.parent ?? []);
  if (parents.length === 0) return;
  const stored = new Map<string, Known>();
  // TypeORM's query() answers an UPDATE … RETURNING as [rows, count].
  const [rows] = (await tx.query(
    `WITH family AS (
       SELECT token_hash FROM tokens WHERE tenant = $1 AND token_hash = ANY($2::bytea[]) ORDER BY token_hash FOR UPDATE
     )
     UPDATE tokens t SET revoked_at = t.revoked_at FROM family f WHERE t.tenant = $1 AND t.token_hash = f.token_hash
     RETURNING t.token_hash, t.token_type, t.client_id, t.consent_id`,
    [tenant, parents],
  )) as [Array<{ token_hash: Buffer; token_type: TokenType; client_id: string; consent_id: string | null }>, number];
  for (const row of rows) {
    stored.set(row.token_hash.toString('hex'), { type: row.token_type, clientId: row.client_id, consentId: row.consent_id ?? undefined });
  }
  const inCall = new Map(
    batch.map((r) => [r.hash.toString('hex'), { type: r.entry.token_type, clientId: r.entry.client_id, consentId: r.entry.consent_id }]),
  );

  for (const registration of batch) {
    const { entry, parent, index } = registration;
    if (!parent) continue;
    const where = `tokens[${index}].refresh_token`;
    if (entry.token_type !== 'access_token') throw ProtocolError.invalidRequest(`${where}: only an access token has a parent refresh token`);
    // What is stored wins: re-registering a token cannot change its type or owner.
    const known = stored.get(parent.toString('hex')) ?? inCall.get(parent.toString('hex'));
    if (!known) throw ProtocolError.invalidRequest(`${where} is not registered`);
    if (known.type !== 'refresh_token') throw ProtocolError.invalidRequest(`${where} is not a refresh token`);
    if (known.clientId !== entry.client_id) throw ProtocolError.invalidRequest(`${where} belongs to another client`);
    if (known.consentId === undefined) continue;
    if (entry.consent_id !== undefined && entry.consent_id !== known.consentId) {
      throw ProtocolError.invalidRequest(`tokens[${index}].consent_id differs from its refresh token's consent`);
    }
    registration.consentId = known.consentId;
  }
}

/** The first client to register a token under a consent owns it; another client's token is refused. */
async function claimConsents(tx: EntityManager, tenant: string, batch: readonly Registration[]): Promise<void> {
  const owners = new Map<string, string>();
  for (const { entry, consentId } of batch) {
    if (consentId === undefined) continue;
    const owner = owners.get(consentId);
    if (owner !== undefined && owner !== entry.client_id) {
      throw ProtocolError.invalidRequest(`consent ${JSON.stringify(consentId)} is used by two clients in this call`);
    }
    owners.set(consentId, entry.client_id);
  }
  if (owners.size === 0) return;
  const rows = (await tx.query(
    // DO UPDATE, never DO NOTHING: the update locks an existing consent and moves its version.
    `INSERT INTO consents (tenant, consent_id, client_id)
     SELECT $1, c.consent_id, c.client_id FROM unnest($2::text[], $3::text[]) AS c(consent_id, client_id) ORDER BY c.consent_id
     ON CONFLICT (tenant, consent_id) DO UPDATE SET consent_id = EXCLUDED.consent_id
     RETURNING consent_id, client_id`,
    [tenant, [...owners.keys()], [...owners.values()]],
  )) as Array<{ consent_id: string; client_id: string }>;
  const foreign = rows.find((row) => owners.get(row.consent_id) !== row.client_id);
  if (foreign) throw ProtocolError.invalidRequest(`consent ${JSON.stringify(foreign.consent_id)} belongs to another client`);
}
