import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { VERIFICATION_SQL } from './event-statements';
import type { DeliveryMethod, StreamStatus } from './stream-request';

/** A stream as stored (docs/api.md §12.2): the credential sealed, the poll token hashed. */
export interface StreamRow {
  readonly streamId: string;
  readonly tenant: string;
  readonly iss: string;
  readonly aud: string | string[];
  readonly method: DeliveryMethod;
  readonly endpointUrl: string | null;
  readonly sealedAuthorization: Buffer | null;
  readonly eventsRequested: string[];
  readonly description: string | null;
  readonly status: StreamStatus;
  readonly reason: string | null;
}

const COLUMNS = `stream_id AS "streamId", tenant, iss, aud, delivery_method AS method, endpoint_url AS "endpointUrl",
  sealed_authorization AS "sealedAuthorization", events_requested AS "eventsRequested", description, status, reason`;

export interface NewStream {
  readonly streamId: string;
  readonly tenant: string;
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly method: DeliveryMethod;
  readonly endpointUrl: string | null;
  readonly sealedAuthorization: Buffer | null;
  readonly pollTokenHash: Buffer | null;
  readonly eventsRequested: readonly string[];
  readonly description: string | null;
}

/** What a PATCH sets; `sealedAuthorization` undefined leaves the credential, null removes it. */
export interface StreamUpdate {
  readonly aud?: string | readonly string[];
  readonly eventsRequested?: readonly string[];
  readonly description?: string;
  readonly endpointUrl?: string;
  readonly sealedAuthorization?: Buffer | null;
}

/** What a poll needs of its stream (docs/api.md §12.5). */
export interface PollTarget {
  readonly method: DeliveryMethod;
  readonly status: StreamStatus;
  readonly iss: string;
  readonly aud: string | string[];
  readonly pollTokenHash: Buffer | null;
}

/** The event streams (docs/api.md §12.2), by primary key; a tenant's by its index. */
@Injectable()
export class StreamStore {
  private readonly statements: PreparedStatements;

  constructor(@Inject(DataSource) db: DataSource) {
    this.statements = new PreparedStatements(db);
  }

  async create(stream: NewStream): Promise<StreamRow> {
    const [row] = await this.statements.run<StreamRow>(
      'revgw_stream_create',
      `INSERT INTO ssf_streams (stream_id, tenant, iss, aud, delivery_method, endpoint_url, sealed_authorization, poll_token_hash, events_requested, description)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9::text[], $10) RETURNING ${COLUMNS}`,
      [
        stream.streamId,
        stream.tenant,
        stream.iss,
        JSON.stringify(stream.aud),
        stream.method,
        stream.endpointUrl,
        stream.sealedAuthorization,
        stream.pollTokenHash,
        stream.eventsRequested,
        stream.description,
      ],
    );
    return row;
  }

  async list(): Promise<StreamRow[]> {
    return this.statements.run<StreamRow>('revgw_stream_list', `SELECT ${COLUMNS} FROM ssf_streams ORDER BY created_at, stream_id`, []);
  }

  async get(streamId: string): Promise<StreamRow | undefined> {
    const [row] = await this.statements.run<StreamRow>('revgw_stream_get', `SELECT ${COLUMNS} FROM ssf_streams WHERE stream_id = $1`, [streamId]);
    return row;
  }

  async pollTarget(streamId: string): Promise<PollTarget | undefined> {
    const [row] = await this.statements.run<PollTarget>(
      'revgw_stream_poll_target',
      `SELECT delivery_method AS method, status, iss, aud, poll_token_hash AS "pollTokenHash" FROM ssf_streams WHERE stream_id = $1`,
      [streamId],
    );
    return row;
  }

  async update(streamId: string, change: StreamUpdate): Promise<StreamRow | undefined> {
    const [row] = await this.statements.run<StreamRow>(
      'revgw_stream_update',
      `UPDATE ssf_streams SET
         aud = COALESCE($2::jsonb, aud),
         events_requested = COALESCE($3::text[], events_requested),
         description = COALESCE($4, description),
         endpoint_url = COALESCE($5, endpoint_url),
         sealed_authorization = CASE WHEN $6::boolean THEN $7::bytea ELSE sealed_authorization END,
         updated_at = now()
       WHERE stream_id = $1 RETURNING ${COLUMNS}`,
      [
        streamId,
        change.aud === undefined ? null : JSON.stringify(change.aud),
        change.eventsRequested ?? null,
        change.description ?? null,
        change.endpointUrl ?? null,
        change.sealedAuthorization !== undefined,
        change.sealedAuthorization ?? null,
      ],
    );
    return row;
  }

  /**
   * SSF 1.0 §8.1.2.1: a disabled stream "will not hold any events for later transmission". A
   * disable starts a new epoch, in the one statement that changes the status: the SETs of the
   * epoch before — those pending, and those a revocation still under way writes for it — are never
   * delivered, polled or counted, and the pruner drops them (src/events/set-pruner.ts). A paused
   * stream keeps its epoch and its SETs.
   */
  async setStatus(streamId: string, status: StreamStatus, reason: string | null): Promise<StreamRow | undefined> {
    const [row] = await this.statements.run<StreamRow>(
      'revgw_stream_status',
      `UPDATE ssf_streams SET status = $2, reason = $3, updated_at = now(),
              epoch = epoch + CASE WHEN $2 = 'disabled' AND status <> 'disabled' THEN 1 ELSE 0 END
        WHERE stream_id = $1 RETURNING ${COLUMNS}`,
      [streamId, status, reason],
    );
    return row;
  }

  /** docs/api.md §12.2: its pending SETs go with it. */
  async delete(streamId: string): Promise<boolean> {
    const rows = await this.statements.run(
      'revgw_stream_delete',
      `WITH gone AS (DELETE FROM ssf_streams WHERE stream_id = $1 RETURNING stream_id), dropped AS (DELETE FROM ssf_sets WHERE stream_id IN (SELECT stream_id FROM gone))
       SELECT 1 FROM gone`,
      [streamId],
    );
    return rows.length > 0;
  }

  /** docs/api.md §12.2 `POST …/verify`: answers whether a verification SET was written (a disabled stream makes none). */
  async verify(streamId: string, state: string | null, txn: string): Promise<boolean> {
    return (await this.statements.run('revgw_stream_verify', VERIFICATION_SQL, [streamId, state, txn])).length > 0;
  }
}
