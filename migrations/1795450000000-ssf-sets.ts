import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §12.3–§12.5: the security event tokens waiting for their receivers, one row per SET
 * and stream, written by the revoking statement itself (so a revocation that commits has its
 * events, and one that rolls back has none). A row holds what the SET says; it is signed when it
 * is first sent or polled (`signed` keeps the signature of a SET sent again, so a receiver sees
 * the same bytes). `created_at` is the SET's `iat` and where its delivery lag starts.
 *
 * Push delivery leases a row the way the upstream outbox does: `attempts` counts and fences
 * claims, `next_attempt_at` is the lease while `leased`, else the backoff. No foreign key to the
 * stream: a revocation must never wait on (or fail because of) a stream being deleted; a row
 * whose stream is gone is never delivered and goes with the retention pruning.
 *
 * A statement trigger tells the replicas which streams have new SETs (`revgw_sets`, a comma
 * separated list of stream ids), and a stream's status change does too, so a push stream
 * resumed or a poll waiting wakes at once rather than at its next look.
 */
export class SsfSets1795450000000 implements MigrationInterface {
  name = 'SsfSets1795450000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ssf_sets (
        id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT ssf_sets_pkey PRIMARY KEY,
        stream_id       uuid NOT NULL,
        epoch           integer NOT NULL,
        jti             uuid NOT NULL DEFAULT gen_random_uuid(),
        event_type      text NOT NULL,
        sub_id          jsonb NOT NULL,
        event           jsonb NOT NULL,
        txn             text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        attempts        integer NOT NULL DEFAULT 0,
        leased          boolean NOT NULL DEFAULT false,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        signed          text
      )`);
    // SSF 1.0 §8.1.2.1, a disabled stream holds no events: each disable starts a new epoch of the
    // stream, and a SET belongs to the epoch its revocation saw. One written by a revocation whose
    // snapshot saw the stream enabled, committing after the disable, is of the old epoch: never
    // delivered, polled or counted, and pruned (src/events/stream-store.ts setStatus).
    await db.query(`ALTER TABLE ssf_streams ADD COLUMN epoch integer NOT NULL DEFAULT 0`);
    // A stream's due SETs of an epoch, oldest first (push claims, poll reads); an old epoch's, to prune.
    await db.query(`CREATE INDEX ssf_sets_due_idx ON ssf_sets (stream_id, epoch, next_attempt_at, id)`);
    // A poll's acknowledgements, by jti.
    await db.query(`CREATE UNIQUE INDEX ssf_sets_jti_idx ON ssf_sets (stream_id, jti)`);
    // Retention pruning.
    await db.query(`CREATE INDEX ssf_sets_created_idx ON ssf_sets (created_at)`);
    await db.query(`
      CREATE FUNCTION revgw_sets_added() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        streams text;
      BEGIN
        SELECT string_agg(DISTINCT stream_id::text, ',') INTO streams FROM added;
        IF streams IS NOT NULL THEN
          -- NOTIFY takes under 8000 bytes: past about 200 streams, everyone looks.
          PERFORM pg_notify('revgw_sets', CASE WHEN length(streams) > 7900 THEN 'all' ELSE streams END);
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER revgw_sets_added AFTER INSERT ON ssf_sets
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION revgw_sets_added()`);
    // A bulk revocation's events, written as one row by its statement and made into SETs after it,
    // in chunks (src/events/set-expander.ts): its locks are not held while 100,000 SETs are written.
    await db.query(`
      CREATE TABLE ssf_set_bundles (
        id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT ssf_set_bundles_pkey PRIMARY KEY,
        txn             text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        reason          text NOT NULL,
        session_event   jsonb NOT NULL,
        token_streams   uuid[] NOT NULL,
        token_epochs    integer[] NOT NULL,
        session_streams uuid[] NOT NULL,
        session_epochs  integer[] NOT NULL,
        token_hashes    bytea[] NOT NULL,
        token_types     text[] NOT NULL,
        grant_ids       text[] NOT NULL,
        grant_subjects  text[] NOT NULL,
        tokens_done     integer NOT NULL DEFAULT 0,
        grants_done     integer NOT NULL DEFAULT 0
      )`);
    await db.query(`
      CREATE FUNCTION revgw_set_bundle_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('revgw_sets', 'bundle');
        RETURN NULL;
      END $$`);
    await db.query(`CREATE TRIGGER revgw_set_bundle_added AFTER INSERT ON ssf_set_bundles FOR EACH STATEMENT EXECUTE FUNCTION revgw_set_bundle_added()`);
    await db.query(`
      CREATE FUNCTION revgw_stream_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('revgw_sets', NEW.stream_id::text);
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER revgw_stream_changed AFTER UPDATE OF status ON ssf_streams
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION revgw_stream_changed()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER revgw_stream_changed ON ssf_streams`);
    await db.query(`DROP FUNCTION revgw_stream_changed()`);
    await db.query(`DROP TABLE ssf_set_bundles`);
    await db.query(`DROP FUNCTION revgw_set_bundle_added()`);
    await db.query(`DROP TABLE ssf_sets`);
    await db.query(`DROP FUNCTION revgw_sets_added()`);
    await db.query(`ALTER TABLE ssf_streams DROP COLUMN epoch`);
  }
}
