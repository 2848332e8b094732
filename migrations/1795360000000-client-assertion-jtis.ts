import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Single-use client assertions (RFC 7523 §3 item 7, docs/api.md §5): each jti is kept until its exp. */
export class ClientAssertionJtis1795360000000 implements MigrationInterface {
  name = 'ClientAssertionJtis1795360000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE client_assertion_jtis (
        tenant      text NOT NULL,
        client_id   text NOT NULL,
        jti         text NOT NULL,
        expires_at  timestamptz NOT NULL,
        CONSTRAINT client_assertion_jtis_pkey PRIMARY KEY (tenant, client_id, jti)
      )`);
    // Pruning expired entries.
    await db.query(`CREATE INDEX client_assertion_jtis_expires_idx ON client_assertion_jtis (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE client_assertion_jtis`);
  }
}
