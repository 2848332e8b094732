import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §11.6: the change feed's trigger (migration 1795420000000) found the newly revoked
 * tokens by joining the statement's old and new rows. PL/pgSQL keeps the plan a session made for
 * its first call: on a connection whose first revocations revoked a token or two, that plan was a
 * nested loop, and a bulk revocation of 100,000 tokens on the same connection then compared every
 * new row with every old one, past any statement timeout. Every revoking statement sets
 * `revoked_at = now()`, so the rows this transaction revoked are the new rows with that value:
 * no join, one pass, whatever the plan.
 */
export class TokenStatusTriggerLinear1795460000000 implements MigrationInterface {
  name = 'TokenStatusTriggerLinear1795460000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION revgw_token_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        touched record;
      BEGIN
        FOR touched IN
          SELECT tenant, count(*) AS revoked, string_agg(encode(token_hash, 'hex'), ',') AS hashes
            FROM (SELECT tenant, token_hash, row_number() OVER (PARTITION BY tenant) AS nth FROM new_rows WHERE revoked_at = now()) r
           WHERE nth <= 101
           GROUP BY tenant
        LOOP
          IF touched.revoked <= 100 THEN
            PERFORM pg_notify('revgw_token_status', 'tokens ' || touched.tenant || ' ' || touched.hashes);
          ELSE
            PERFORM pg_notify('revgw_token_status', 'tenant ' || touched.tenant);
          END IF;
        END LOOP;
        RETURN NULL;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION revgw_token_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
  }
}
