import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §12.2: the event streams of the Shared Signals transmitter, one row each. A push
 * stream's receiver credential (`authorization_header`) is kept sealed (AES-256-GCM under
 * TOKEN_ENCRYPTION_KEY, its purpose and the stream id as additional data); a poll stream's token is kept as its
 * SHA-256 hash only. `iss` is fixed when the stream is made.
 */
export class SsfStreams1795440000000 implements MigrationInterface {
  name = 'SsfStreams1795440000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ssf_streams (
        stream_id        uuid PRIMARY KEY,
        tenant           text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        iss              text NOT NULL,
        aud              jsonb NOT NULL,
        delivery_method  text NOT NULL CONSTRAINT ssf_streams_method_check CHECK (delivery_method IN ('urn:ietf:rfc:8935', 'urn:ietf:rfc:8936')),
        endpoint_url     text,
        sealed_authorization bytea,
        poll_token_hash  bytea,
        events_requested text[] NOT NULL,
        description      text,
        status           text NOT NULL DEFAULT 'enabled' CONSTRAINT ssf_streams_status_check CHECK (status IN ('enabled', 'paused', 'disabled')),
        reason           text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ssf_streams_delivery_check CHECK (
          (delivery_method = 'urn:ietf:rfc:8935' AND endpoint_url IS NOT NULL AND poll_token_hash IS NULL)
          OR (delivery_method = 'urn:ietf:rfc:8936' AND endpoint_url IS NULL AND sealed_authorization IS NULL AND poll_token_hash IS NOT NULL))
      )`);
    // A revocation finds its tenant's streams.
    await db.query(`CREATE INDEX ssf_streams_tenant_idx ON ssf_streams (tenant)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE ssf_streams`);
  }
}
