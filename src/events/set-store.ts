import type { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { POLL, PUSH } from './stream-request';

/*
 * The security event tokens waiting for their receivers (migration 1795450000000), behind the
 * statements that deliver them. They are written by the revocation statements themselves
 * (src/events/event-statements.ts); here they are claimed, settled, polled, acknowledged and pruned.
 */

/** A SET as stored: what it says, and (once sent or polled) its signature. */
export interface StoredSet {
  readonly id: string;
  readonly jti: string;
  readonly eventType: string;
  readonly subId: Record<string, unknown>;
  readonly event: Record<string, unknown>;
  readonly txn: string;
  /** Its `iat`, seconds since the epoch. */
  readonly iat: number;
  readonly signed: string | null;
}

/** A claimed push SET: `attempts` counts this delivery and fences it. */
export interface ClaimedSet extends StoredSet {
  readonly attempts: number;
}

/** An enabled push stream, as its deliveries need it. */
export interface PushTarget {
  readonly streamId: string;
  readonly iss: string;
  readonly aud: string | string[];
  readonly endpointUrl: string;
  readonly sealedAuthorization: Buffer | null;
}

export interface Settled {
  readonly id: string;
  readonly attempts: number;
}

export interface Retry extends Settled {
  readonly delayMs: number;
  /** What was sent, kept so that the next try sends the same bytes; null when nothing was. */
  readonly signed: string | null;
}

const SET_COLUMNS = `e.id::text AS id, e.jti::text AS jti, e.event_type AS "eventType", e.sub_id AS "subId", e.event, e.txn,
  extract(epoch FROM e.created_at)::bigint::int AS iat, e.signed`;

/** A SET of an earlier epoch (the stream was disabled since its revocation saw it) is never delivered (migration 1795450000000). */
const THIS_EPOCH = `e.epoch = s.epoch`;

/**
 * Claims a push stream's due SETs, while the stream is enabled, for one delivery each (the outbox
 * discipline of src/upstream/outbox.ts): `FOR UPDATE SKIP LOCKED` lets replicas claim disjoint
 * rows without waiting, the lease (next_attempt_at past the delivery's longest duration) keeps
 * every other claimer away until this one settles, and the lock lasts this statement only. A
 * probe ($4, a stream whose receiver is failing) may take one not yet due.
 */
const CLAIM_SQL = `
WITH stream AS (
  SELECT stream_id, epoch, iss, aud, endpoint_url, sealed_authorization FROM ssf_streams
   WHERE stream_id = $1 AND status = 'enabled' AND delivery_method = '${PUSH}'
), due AS (
  SELECT e.id FROM ssf_sets e, stream s
   WHERE e.stream_id = $1 AND ${THIS_EPOCH} AND (e.next_attempt_at <= clock_timestamp() OR ($4::boolean AND NOT e.leased))
   ORDER BY e.next_attempt_at, e.id
   LIMIT $2
   FOR UPDATE SKIP LOCKED
)
UPDATE ssf_sets e
   SET attempts = e.attempts + 1, leased = true, next_attempt_at = clock_timestamp() + $3::int * interval '1 millisecond'
  FROM due, stream WHERE e.id = due.id
RETURNING ${SET_COLUMNS}, e.attempts, stream.iss, stream.aud, stream.endpoint_url AS "endpointUrl", stream.sealed_authorization AS "sealedAuthorization"`;

/** Delivered, or rejected for good: the row has done its job. Answers each one's lag since its revocation. */
const SETTLED_SQL = `
DELETE FROM ssf_sets e USING unnest($1::bigint[], $2::int[]) AS d(id, attempts)
 WHERE e.id = d.id AND e.attempts = d.attempts
RETURNING extract(epoch FROM clock_timestamp() - e.created_at)::float8 AS lag`;

/** Not delivered: tried again after its delay, with the signature it was sent with. */
const RETRY_SQL = `
UPDATE ssf_sets e SET leased = false, next_attempt_at = clock_timestamp() + d.delay * interval '1 millisecond', signed = COALESCE(e.signed, d.signed)
  FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[]) AS d(id, attempts, delay, signed)
 WHERE e.id = d.id AND e.attempts = d.attempts`;

/** The receiver answers again after an outage: what waited on its backoff is due now. */
const CATCH_UP_SQL = `UPDATE ssf_sets SET next_attempt_at = clock_timestamp() WHERE stream_id = $1 AND NOT leased AND next_attempt_at > clock_timestamp()`;

/** A poll's SETs: the oldest first, one more than asked to tell whether more are available. */
const POLL_SQL = `
SELECT ${SET_COLUMNS} FROM ssf_sets e JOIN ssf_streams s ON s.stream_id = e.stream_id
 WHERE e.stream_id = $1 AND ${THIS_EPOCH} ORDER BY e.next_attempt_at, e.id LIMIT $2`;

/** Keeps the first signature of each SET, and answers it: two polls signing one SET at once give the same bytes. */
const KEEP_SIGNED_SQL = `
UPDATE ssf_sets e SET signed = COALESCE(e.signed, d.signed) FROM unnest($1::bigint[], $2::text[]) AS d(id, signed) WHERE e.id = d.id
RETURNING e.id::text AS id, e.signed`;

/** RFC 8936 §2.4: acknowledged (or reported in error) SETs are gone. */
const ACKNOWLEDGED_SQL = `
DELETE FROM ssf_sets WHERE stream_id = $1 AND jti = ANY ($2::uuid[])
RETURNING extract(epoch FROM clock_timestamp() - created_at)::float8 AS lag`;

const PUSH_STREAMS_SQL = `SELECT stream_id AS "streamId" FROM ssf_streams WHERE delivery_method = '${PUSH}' AND status = 'enabled'`;

/** Pending: the SETs of each stream's current epoch, and those bundles will make (a deleted or disabled stream's are nobody's to deliver). */
const PENDING_SQL = `
SELECT ((SELECT count(*) FROM ssf_sets e JOIN ssf_streams s ON s.stream_id = e.stream_id WHERE ${THIS_EPOCH})
       + (SELECT coalesce(sum((cardinality(token_hashes) - tokens_done) * cardinality(token_streams)
                            + (cardinality(grant_ids) - grants_done) * cardinality(session_streams)), 0) FROM ssf_set_bundles))::int AS pending`;

/**
 * SETs nobody will deliver: of an earlier epoch of their stream (disabled since), a batch at a
 * time, by the due index. A deleted stream's go with it (src/events/stream-store.ts).
 */
const STALE_SQL = `
DELETE FROM ssf_sets WHERE id IN (
  SELECT e.id FROM ssf_streams s JOIN ssf_sets e ON e.stream_id = s.stream_id AND e.epoch < s.epoch LIMIT $1 FOR UPDATE OF e SKIP LOCKED)`;

/** docs/api.md §12.5 SSF_RETENTION_S: a batch of the oldest past retention, by the streams' method. */
const PRUNE_SQL = `
WITH gone AS (
  DELETE FROM ssf_sets WHERE id IN (
    SELECT id FROM ssf_sets WHERE created_at < now() - $1::int * interval '1 second' AND NOT (leased AND next_attempt_at > now())
     ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING stream_id
)
SELECT s.delivery_method AS method, count(*)::int AS expired FROM gone g LEFT JOIN ssf_streams s ON s.stream_id = g.stream_id GROUP BY 1`;

export const METHOD_LABEL: Record<string, 'push' | 'poll'> = { [PUSH]: 'push', [POLL]: 'poll' };

/**
 * The SET table behind a narrow interface. Its statements are planned at each execution
 * (PreparedStatements.planned): the table goes from empty to millions of rows and back.
 */
export class SetStore {
  private readonly statements: PreparedStatements;

  constructor(db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async pushStreams(): Promise<string[]> {
    return (await this.statements.planned<{ streamId: string }>(PUSH_STREAMS_SQL, [])).map((row) => row.streamId);
  }

  /** Up to `limit` due SETs of an enabled push stream, with the stream as it is now; none when it is not enabled. */
  async claim(streamId: string, limit: number, leaseMs: number, probe: boolean): Promise<{ target?: PushTarget; sets: ClaimedSet[] }> {
    const rows = await this.statements.planned<ClaimedSet & Omit<PushTarget, 'streamId'>>(CLAIM_SQL, [streamId, limit, leaseMs, probe]);
    if (rows.length === 0) return { sets: [] };
    const { iss, aud, endpointUrl, sealedAuthorization } = rows[0];
    return { target: { streamId, iss, aud, endpointUrl, sealedAuthorization }, sets: rows };
  }

  /** Deletes the settled rows still held by these claims; answers the lag of each one deleted. */
  async settled(rows: readonly Settled[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const deleted = await this.statements.planned<{ lag: number }>(SETTLED_SQL, [rows.map((r) => r.id), rows.map((r) => r.attempts)]);
    return deleted.map((row) => row.lag);
  }

  async retry(rows: readonly Retry[]): Promise<void> {
    if (rows.length === 0) return;
    await this.statements.planned(RETRY_SQL, [rows.map((r) => r.id), rows.map((r) => r.attempts), rows.map((r) => r.delayMs), rows.map((r) => r.signed)]);
  }

  async catchUp(streamId: string): Promise<void> {
    await this.statements.planned(CATCH_UP_SQL, [streamId]);
  }

  async poll(streamId: string, limit: number): Promise<StoredSet[]> {
    return this.statements.planned<StoredSet>(POLL_SQL, [streamId, limit]);
  }

  /** Answers, by id, the signature each SET keeps (this one, or one kept first by another poll). */
  async keepSigned(rows: ReadonlyArray<{ id: string; signed: string }>): Promise<Map<string, string>> {
    if (rows.length === 0) return new Map();
    const kept = await this.statements.planned<{ id: string; signed: string }>(KEEP_SIGNED_SQL, [rows.map((r) => r.id), rows.map((r) => r.signed)]);
    return new Map(kept.map((row) => [row.id, row.signed]));
  }

  /** Deletes the stream's SETs of these jtis (each a UUID); answers the lag of each one deleted. */
  async acknowledged(streamId: string, jtis: readonly string[]): Promise<number[]> {
    if (jtis.length === 0) return [];
    return (await this.statements.planned<{ lag: number }>(ACKNOWLEDGED_SQL, [streamId, jtis])).map((row) => row.lag);
  }

  async pending(): Promise<number> {
    const [row] = await this.statements.planned<{ pending: number }>(PENDING_SQL, []);
    return row.pending;
  }

  /** One batch of SETs of earlier epochs; answers how many went. */
  async pruneStale(batch: number): Promise<number> {
    return (await this.statements.planned(`${STALE_SQL} RETURNING 1`, [batch])).length;
  }

  /** One batch of SETs past retention; answers how many went, by method (a deleted stream's are not counted). */
  async prune(retentionS: number, batch: number): Promise<{ method: 'push' | 'poll' | undefined; expired: number }[]> {
    const rows = await this.statements.planned<{ method: string | null; expired: number }>(PRUNE_SQL, [retentionS, batch]);
    return rows.map((row) => ({ method: row.method === null ? undefined : METHOD_LABEL[row.method], expired: row.expired }));
  }
}
