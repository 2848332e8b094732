import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §11.6: every statement that revokes tokens tells every replica which, through
 * PostgreSQL NOTIFY on channel `revgw_token_status`, sent by the revoking transaction itself and
 * delivered when it commits (never for one that rolls back). A statement trigger with transition
 * tables sees every `UPDATE` that sets `revoked_at` — a client's revocation and its cascade, a
 * consent, a bulk revocation — including ones written later. (A token inserted revoked was never
 * active, so no replica can hold it as such.)
 *
 * The payload, one per tenant touched: `tokens <tenant> <hex hash>,<hex hash>,…` for up to 100
 * tokens (6.5 KB, under NOTIFY's 8000 bytes), else `tenant <tenant>`: forget the whole tenant.
 */
export class TokenStatusFeed1795420000000 implements MigrationInterface {
  name = 'TokenStatusFeed1795420000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION revgw_token_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        touched record;
      BEGIN
        FOR touched IN
          SELECT n.tenant, count(*) AS revoked
            FROM new_rows n JOIN old_rows o ON o.tenant = n.tenant AND o.token_hash = n.token_hash
           WHERE o.revoked_at IS NULL AND n.revoked_at IS NOT NULL
           GROUP BY n.tenant
        LOOP
          IF touched.revoked <= 100 THEN
            PERFORM pg_notify('revgw_token_status', 'tokens ' || touched.tenant || ' ' || (
              SELECT string_agg(encode(n.token_hash, 'hex'), ',')
                FROM new_rows n JOIN old_rows o ON o.tenant = n.tenant AND o.token_hash = n.token_hash
               WHERE n.tenant = touched.tenant AND o.revoked_at IS NULL AND n.revoked_at IS NOT NULL));
          ELSE
            PERFORM pg_notify('revgw_token_status', 'tenant ' || touched.tenant);
          END IF;
        END LOOP;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER revgw_token_status AFTER UPDATE ON tokens
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION revgw_token_status_changed()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER revgw_token_status ON tokens`);
    await db.query(`DROP FUNCTION revgw_token_status_changed()`);
  }
}
