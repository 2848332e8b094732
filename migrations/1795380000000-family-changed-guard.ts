import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How registration and revocation serialise on a token family (docs/design.md "Lock order").
 *
 * - `tokens.family_version` counts the access tokens registered under a refresh token: a
 *   registration bumps it, under lock, before it reads the parent. A revocation statement carries
 *   each victim's version from its snapshot, and a victim locked at another version means a token
 *   of the family was registered after the snapshot.
 * - `revgw_family_unchanged` is that check's guard: it aborts the statement with a serialization
 *   failure (SQLSTATE 40001), and the statement runs again with a snapshot that sees the new
 *   token. SQL cannot raise an error of its own; PL/pgSQL can.
 *
 * A column with a constant default is added without rewriting the table (PostgreSQL 11+).
 */
export class FamilyChangedGuard1795380000000 implements MigrationInterface {
  name = 'FamilyChangedGuard1795380000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tokens ADD COLUMN family_version integer NOT NULL DEFAULT 0`);
    await db.query(`
      CREATE FUNCTION revgw_family_unchanged(changed boolean) RETURNS boolean
      LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
      BEGIN
        IF changed THEN
          RAISE EXCEPTION 'a token was registered in the family being revoked since the statement began'
            USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN true;
      END
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION revgw_family_unchanged(boolean)`);
    await db.query(`ALTER TABLE tokens DROP COLUMN family_version`);
  }
}
