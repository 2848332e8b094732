import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The guard of the revocation statements (revocation, CDR arrangement, admin bulk): one that finds a
 * row of the family it revokes changed since its snapshot (a token registered under it meanwhile)
 * aborts itself with a serialization failure (SQLSTATE 40001), and is run again with a snapshot
 * that includes the change. SQL cannot raise an error of its own; PL/pgSQL can.
 */
export class FamilyChangedGuard1795380000000 implements MigrationInterface {
  name = 'FamilyChangedGuard1795380000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION revgw_family_unchanged(changed boolean) RETURNS boolean
      LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
      BEGIN
        IF changed THEN
          RAISE EXCEPTION 'a token or consent of the family being revoked changed since the statement began'
            USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN true;
      END
      $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION revgw_family_unchanged(boolean)`);
  }
}
