import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/pg-pool';
import { opaqueTokenSubId, sessionSubId } from './event-statements';
import type { SetSignal } from './set-signal';
import { SESSION_REVOKED, TOKEN_REVOKED } from './stream-request';

/** SETs written per transaction (tokens or grants × their streams): ~0.3 s of inserts. */
export const EXPAND_CHUNK = 20_000;
const LOOK_EVERY_MS = 1000;

/** The oldest bundle, locked for this expansion (replicas skip each other's). */
const CLAIM_SQL = `
SELECT id::text AS id, array_cat(token_streams, session_streams)::text[] AS streams,
       greatest(cardinality(token_streams), 1) AS "tokenStreams", greatest(cardinality(session_streams), 1) AS "sessionStreams", cardinality(token_hashes) AS tokens, cardinality(grant_ids) AS grants, tokens_done AS "tokensDone", grants_done AS "grantsDone"
  FROM ssf_set_bundles ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`;

/**
 * One chunk ($2..$3, 1-based) of a bundle's tokens: a token-revoked SET per token and stream, for
 * the streams that asked, unless disabled or deleted since; `iat` and the lag count from the revocation.
 */
const TOKENS_SQL = `
INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn, created_at)
SELECT st.stream_id, st.epoch, '${TOKEN_REVOKED}', ${opaqueTokenSubId('t.hash')}, jsonb_build_object('token_type', t.type, 'reason', b.reason), b.txn, b.created_at
  FROM ssf_set_bundles b
 CROSS JOIN LATERAL unnest(b.token_streams, b.token_epochs) AS bs(stream_id, epoch)
  JOIN ssf_streams st ON st.stream_id = bs.stream_id AND st.epoch = bs.epoch AND st.status <> 'disabled'
 CROSS JOIN LATERAL unnest(b.token_hashes[$2:$3], b.token_types[$2:$3]) AS t(hash, type)
 WHERE b.id = $1`;

/** One chunk of a bundle's grants: a session-revoked SET per grant and stream. */
const GRANTS_SQL = `
INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn, created_at)
SELECT st.stream_id, st.epoch, '${SESSION_REVOKED}', ${sessionSubId('g.id', 'g.subject', 'st.iss')}, b.session_event, b.txn, b.created_at
  FROM ssf_set_bundles b
 CROSS JOIN LATERAL unnest(b.session_streams, b.session_epochs) AS bs(stream_id, epoch)
  JOIN ssf_streams st ON st.stream_id = bs.stream_id AND st.epoch = bs.epoch AND st.status <> 'disabled'
 CROSS JOIN LATERAL unnest(b.grant_ids[$2:$3], b.grant_subjects[$2:$3]) AS g(id, subject)
 WHERE b.id = $1`;

/**
 * docs/api.md §12.3, for the bulk revocation: its statement writes its events as one bundle
 * (src/events/event-statements.ts); here, after it committed and released its locks, every
 * replica makes bundles into SETs, about EXPAND_CHUNK SETs per transaction. A stream disabled
 * since (a new epoch) or deleted gets none. Each chunk's SETs commit
 * with the bundle's progress, so a crash between chunks repeats none and loses none.
 */
export class SetExpander implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly statements: PreparedStatements;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;
  private unsubscribe?: () => void;

  constructor(
    db: DataSource,
    private readonly signal: SetSignal,
    private readonly logger: Logger,
  ) {
    this.statements = new PreparedStatements(db);
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.signal.onWake((streams) => {
      if (streams === 'all' || streams.includes('bundle')) this.kick();
    });
    this.timer = setInterval(() => this.kick(), LOOK_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.running;
  }

  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.expandAll()
      .catch((error: Error) => this.logger.warn({ err: { message: error.message } }, 'security event bundle expansion failed'))
      .finally(() => (this.running = undefined));
  }

  private async expandAll(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        const streams = this.stopping ? undefined : await this.expandChunk();
        if (!streams) break;
        // The database tells every replica's pumps and polls; this tells this one's at once.
        this.signal.wake(streams);
      }
    } while (this.again && !this.stopping);
  }

  /** One chunk of the oldest bundle not being expanded elsewhere; answers its streams, or undefined when there was none. */
  async expandChunk(): Promise<string[] | undefined> {
    return this.statements.transaction(async (run) => {
      const [bundle] = await run<{
        id: string;
        streams: string[];
        tokenStreams: number;
        sessionStreams: number;
        tokens: number | null;
        grants: number | null;
        tokensDone: number;
        grantsDone: number;
      }>('revgw_bundle_claim', CLAIM_SQL, []);
      if (!bundle) return undefined;
      const [tokens, grants] = [bundle.tokens ?? 0, bundle.grants ?? 0];
      let { tokensDone, grantsDone } = bundle;
      if (tokensDone < tokens) {
        // Sized by the rows it writes, so that a tenant with many streams stays within the statement timeout.
        const to = Math.min(tokens, tokensDone + Math.max(1, Math.floor(EXPAND_CHUNK / bundle.tokenStreams)));
        await run('revgw_bundle_tokens', TOKENS_SQL, [bundle.id, tokensDone + 1, to]);
        tokensDone = to;
      } else if (grantsDone < grants) {
        const to = Math.min(grants, grantsDone + Math.max(1, Math.floor(EXPAND_CHUNK / bundle.sessionStreams)));
        await run('revgw_bundle_grants', GRANTS_SQL, [bundle.id, grantsDone + 1, to]);
        grantsDone = to;
      }
      if (tokensDone >= tokens && grantsDone >= grants) await run('revgw_bundle_done', 'DELETE FROM ssf_set_bundles WHERE id = $1', [bundle.id]);
      else
        await run('revgw_bundle_progress', 'UPDATE ssf_set_bundles SET tokens_done = $2, grants_done = $3 WHERE id = $1', [bundle.id, tokensDone, grantsDone]);
      return bundle.streams;
    });
  }
}
