import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../core.module';
import { retryingConflicts } from '../database/db-errors';
import { PlannerStatistics } from '../database/planner-statistics';
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
 * Stores what the authorization server issued (docs/api.md §9, POST /admin/tokens). A
 * batch is checked whole inside one transaction, so either every new token is stored or none is.
 *
 * The invariants the revocation cascades rely on are enforced here: a parent is a refresh token
 * of the same client, a consent belongs to one client, and what is already stored wins over what
 * a batch says about the same token (re-registering is a no-op).
 *
 * A registration serialises with the revocations of the families it adds to, taking locks in
 * their order (revocation-statements.ts): first the consents it registers under (an upsert: a
 * revocation of one of them has either committed, and the new token is born revoked, or waits
 * for this commit and sees the token); then the stored parent refresh tokens, whose
 * `family_version` it bumps (a revocation that chose its victims before this commit finds the
 * version moved and runs again); then the new tokens, in hash order. A parent named in the call
 * that another call stored meanwhile is checked and locked after the insert, like a stored one.
 * Deadlocks and serialization failures are retried.
 */
@Injectable()
export class TokenRegistry {
  private readonly statistics: PlannerStatistics;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.statistics = new PlannerStatistics(db, logger);
  }

  async register(tenant: string, entries: readonly TokenEntry[]): Promise<number> {
    const registered = await this.store(tenant, uniqueRegistrations(entries));
    this.statistics.noteStored(registered);
    return registered;
  }

  private store(tenant: string, batch: Registration[]): Promise<number> {
    return retryingConflicts(() =>
      this.db.transaction(async (tx) => {
        await checkClients(tx, tenant, batch);
        // Read unlocked first: a stored token's type, client and consent never change, and the
        // consents to lock include those inherited from parents.
        const stored = await storedParents(tx, tenant, batch);
        checkParents(batch, stored);
        await claimConsents(tx, tenant, batch);
        await growFamilies(
          tx,
          tenant,
          [...stored.keys()].map((hex) => Buffer.from(hex, 'hex')),
        );
        const inserted = await insertNew(tx, tenant, batch);
        await settleParentsStoredMeanwhile(tx, tenant, batch, stored, inserted);
        return inserted.size;
      }),
    );
  }
}

/**
 * A token registered under a revoked parent or consent is born revoked: the cascade that revoked
 * them would have caught it had it existed then. Inserted in hash order (two calls naming the
 * same new tokens wait for each other instead of deadlocking); returns the hashes it stored.
 */
async function insertNew(tx: EntityManager, tenant: string, batch: readonly Registration[]): Promise<Set<string>> {
  const rows = (await tx.query(
    `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, subject, parent_hash, expires_at, scope, cnf, issued_at,
                         revoked_at)
     SELECT $1, n.hash, n.type, n.client_id, n.grant_id, n.consent_id, n.subject, n.parent, n.expires_at, n.scope, n.cnf, n.issued_at,
            CASE WHEN p.revoked_at IS NOT NULL OR c.revoked_at IS NOT NULL THEN now() END
       FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::timestamptz[],
                   $10::text[], $11::jsonb[], $12::timestamptz[])
            AS n(hash, type, client_id, grant_id, consent_id, subject, parent, expires_at, scope, cnf, issued_at)
       LEFT JOIN tokens p ON p.tenant = $1 AND p.token_hash = n.parent
       LEFT JOIN consents c ON c.tenant = $1 AND c.consent_id = n.consent_id
      ORDER BY n.hash
     ON CONFLICT (tenant, token_hash) DO NOTHING
     RETURNING token_hash`,
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
      batch.map((r) => r.entry.scope ?? null),
      batch.map((r) => (r.entry.cnf === undefined ? null : JSON.stringify(r.entry.cnf))),
      batch.map((r) => r.entry.issued_at ?? null),
    ],
  )) as Array<{ token_hash: Buffer }>;
  return new Set(rows.map((row) => row.token_hash.toString('hex')));
}

/** Locks stored parent refresh tokens in hash order and bumps their family version. */
async function growFamilies(tx: EntityManager, tenant: string, parents: readonly Buffer[]): Promise<Array<{ token_hash: Buffer } & StoredRow>> {
  if (parents.length === 0) return [];
  // TypeORM's query() answers an UPDATE … RETURNING as [rows, count].
  const [rows] = (await tx.query(
    `WITH family AS (
       SELECT token_hash FROM tokens WHERE tenant = $1 AND token_hash = ANY($2::bytea[]) ORDER BY token_hash FOR UPDATE
     )
     UPDATE tokens t SET family_version = t.family_version + 1 FROM family f WHERE t.tenant = $1 AND t.token_hash = f.token_hash
     RETURNING t.token_hash, t.token_type, t.client_id, t.consent_id, t.revoked_at`,
    [tenant, parents],
  )) as [Array<{ token_hash: Buffer } & StoredRow>, number];
  return rows;
}

/**
 * A parent named in this call that was not stored when the call read its parents, and that this
 * call did not insert either: another call stored it in between (the insert waited for it, then
 * left it alone). It is checked as a stored parent would have been (what is stored wins) and its
 * family grown under lock; if it is revoked by now, the tokens this call stored under it are too.
 */
async function settleParentsStoredMeanwhile(
  tx: EntityManager,
  tenant: string,
  batch: readonly Registration[],
  stored: ReadonlyMap<string, Known>,
  inserted: ReadonlySet<string>,
): Promise<void> {
  const meanwhile = [...new Set(batch.flatMap((r) => (r.parent ? [r.parent.toString('hex')] : [])))].filter((hex) => !stored.has(hex) && !inserted.has(hex));
  if (meanwhile.length === 0) return;
  const rows = await growFamilies(
    tx,
    tenant,
    meanwhile.map((hex) => Buffer.from(hex, 'hex')),
  );
  const now = new Map(rows.map((row) => [row.token_hash.toString('hex'), row]));
  const revoked: Buffer[] = [];
  for (const { entry, parent, index, consentId, hash } of batch) {
    const row = parent && now.get(parent.toString('hex'));
    if (!row || !inserted.has(hash.toString('hex'))) continue;
    const where = `tokens[${index}].refresh_token`;
    if (row.token_type !== 'refresh_token') throw ProtocolError.invalidRequest(`${where} is not a refresh token`);
    if (row.client_id !== entry.client_id) throw ProtocolError.invalidRequest(`${where} belongs to another client`);
    if (row.consent_id !== null && row.consent_id !== consentId) {
      throw ProtocolError.invalidRequest(`tokens[${index}].consent_id differs from its refresh token's consent`);
    }
    if (row.revoked_at !== null) revoked.push(hash);
  }
  if (revoked.length > 0) {
    await tx.query('UPDATE tokens SET revoked_at = now() WHERE tenant = $1 AND token_hash = ANY($2::bytea[]) AND revoked_at IS NULL', [tenant, revoked]);
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
  const fields = ['token_type', 'client_id', 'grant_id', 'consent_id', 'subject', 'refresh_token', 'scope'] as const;
  const sameTime = (x: string | undefined, y: string | undefined) => (x === undefined ? y === undefined : y !== undefined && Date.parse(x) === Date.parse(y));
  return (
    fields.every((field) => a[field] === b[field]) &&
    sameTime(a.expires_at, b.expires_at) &&
    sameTime(a.issued_at, b.issued_at) &&
    JSON.stringify(a.cnf) === JSON.stringify(b.cnf)
  );
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

interface StoredRow {
  token_type: TokenType;
  client_id: string;
  consent_id: string | null;
  revoked_at: Date | null;
}

/** The parents this call names that are stored, by hex hash. */
async function storedParents(tx: EntityManager, tenant: string, batch: readonly Registration[]): Promise<Map<string, Known>> {
  const parents = batch.flatMap((r) => r.parent ?? []);
  const stored = new Map<string, Known>();
  if (parents.length === 0) return stored;
  const rows = (await tx.query('SELECT token_hash, token_type, client_id, consent_id FROM tokens WHERE tenant = $1 AND token_hash = ANY($2::bytea[])', [
    tenant,
    parents,
  ])) as Array<{ token_hash: Buffer } & StoredRow>;
  for (const row of rows) {
    stored.set(row.token_hash.toString('hex'), { type: row.token_type, clientId: row.client_id, consentId: row.consent_id ?? undefined });
  }
  return stored;
}

/**
 * `refresh_token` links an access token to its parent: a refresh token of the same client. A child
 * of a refresh token under a consent belongs to that consent (inherited when absent, a 400 when
 * different), so that revoking a consent reaches every token of the family.
 */
function checkParents(batch: Registration[], stored: ReadonlyMap<string, Known>): void {
  const inCall = new Map(batch.map((r) => [r.hash.toString('hex'), { type: r.entry.token_type, clientId: r.entry.client_id, consentId: r.entry.consent_id }]));

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
    // DO UPDATE, never DO NOTHING: the update locks an existing consent until this commit.
    `INSERT INTO consents (tenant, consent_id, client_id)
     SELECT $1, c.consent_id, c.client_id FROM unnest($2::text[], $3::text[]) AS c(consent_id, client_id) ORDER BY c.consent_id
     ON CONFLICT (tenant, consent_id) DO UPDATE SET consent_id = EXCLUDED.consent_id
     RETURNING consent_id, client_id`,
    [tenant, [...owners.keys()], [...owners.values()]],
  )) as Array<{ consent_id: string; client_id: string }>;
  const foreign = rows.find((row) => owners.get(row.consent_id) !== row.client_id);
  if (foreign) throw ProtocolError.invalidRequest(`consent ${JSON.stringify(foreign.consent_id)} belongs to another client`);
}
