import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The upstream outbox (docs/api.md §6): one row per revocation still to be propagated, written in
 * the revocation's own statement and deleted once the upstream confirmed it. The token is stored
 * sealed with AES-256-GCM (never in clear). `attempts` counts deliveries tried; `claim` only ever
 * grows, one per claim, and fences the settle, so a delivery that overran its lease cannot settle a
 * row another delivery has since claimed.
 */
export class UpstreamOutbox1795370000000 implements MigrationInterface {
  name = 'UpstreamOutbox1795370000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE upstream_outbox (
        id               bigint GENERATED ALWAYS AS IDENTITY,
        tenant           text NOT NULL,
        sealed_token     bytea NOT NULL,
        token_type       text,
        level            text,
        interaction_id   text NOT NULL,
        attempts         integer NOT NULL DEFAULT 0,
        claim            integer NOT NULL DEFAULT 1,
        next_attempt_at  timestamptz NOT NULL,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        dead_at          timestamptz,
        CONSTRAINT upstream_outbox_pkey PRIMARY KEY (id),
        CONSTRAINT upstream_outbox_token_type_check CHECK (token_type IN ('access_token', 'refresh_token')),
        CONSTRAINT upstream_outbox_level_check CHECK (level IN ('NONE', 'RELATED_TOKENS', 'RELATED_CONSENT'))
      )`);
    // The worker's scan: live rows by due time. Dead letters leave the index.
    await db.query(`CREATE INDEX upstream_outbox_due_idx ON upstream_outbox (next_attempt_at) WHERE dead_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE upstream_outbox`);
  }
}
