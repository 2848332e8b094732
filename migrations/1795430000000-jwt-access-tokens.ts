import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §11.3: JWT access tokens (RFC 9068) that nobody registered.
 *
 * - A tenant may name its authorization server's access-token keys (`access_token_jwks_uri`).
 * - A JWT revoked by its own client is written to `tokens` as a token born revoked (the denylist,
 *   by SHA-256 hash, until its `exp`), so every lookup that finds a registered token finds it too.
 *   An insert trigger tells every replica (docs/api.md §11.6), as the update trigger of
 *   1795420000000 does for revocations of registered tokens: a replica may hold such a JWT as
 *   active, from its signature alone.
 * - `revocation_rules`: what a bulk or consent revocation means for the JWTs of a tenant (every
 *   one matching its criteria and issued at or before it is inactive) until `expires_at`, when no
 *   such token can still be alive. Each insert tells every replica to forget the tenant's JWTs
 *   (`rules <tenant>`); its registered tokens stay.
 */
export class JwtAccessTokens1795430000000 implements MigrationInterface {
  name = 'JwtAccessTokens1795430000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tenants ADD COLUMN access_token_jwks_uri text`);
    await db.query(`
      CREATE TABLE revocation_rules (
        id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT revocation_rules_pkey PRIMARY KEY,
        tenant      text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        subject     text,
        client_id   text,
        consent_id  text,
        revoked_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        CONSTRAINT revocation_rules_criteria_check CHECK (num_nonnulls(subject, client_id, consent_id) > 0)
      )`);
    // A token's rules are found by the criteria it could match (each rule names at least one);
    // pruning goes by expiry.
    await db.query(`CREATE INDEX revocation_rules_subject_idx ON revocation_rules (tenant, subject) WHERE subject IS NOT NULL`);
    await db.query(`CREATE INDEX revocation_rules_client_idx ON revocation_rules (tenant, client_id) WHERE client_id IS NOT NULL`);
    await db.query(`CREATE INDEX revocation_rules_consent_idx ON revocation_rules (tenant, consent_id) WHERE consent_id IS NOT NULL`);
    await db.query(`CREATE INDEX revocation_rules_expiry_idx ON revocation_rules (expires_at)`);
    await db.query(`
      CREATE FUNCTION revgw_rule_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        touched record;
      BEGIN
        FOR touched IN SELECT DISTINCT tenant FROM new_rows LOOP
          PERFORM pg_notify('revgw_token_status', 'rules ' || touched.tenant);
        END LOOP;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER revgw_rule_recorded AFTER INSERT ON revocation_rules
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION revgw_rule_recorded()`);
    await db.query(`
      CREATE FUNCTION revgw_token_born_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        touched record;
      BEGIN
        FOR touched IN SELECT tenant, count(*) AS revoked FROM new_rows WHERE revoked_at IS NOT NULL GROUP BY tenant LOOP
          IF touched.revoked <= 100 THEN
            PERFORM pg_notify('revgw_token_status', 'tokens ' || touched.tenant || ' ' || (
              SELECT string_agg(encode(token_hash, 'hex'), ',') FROM new_rows WHERE tenant = touched.tenant AND revoked_at IS NOT NULL));
          ELSE
            PERFORM pg_notify('revgw_token_status', 'tenant ' || touched.tenant);
          END IF;
        END LOOP;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER revgw_token_born_revoked AFTER INSERT ON tokens
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION revgw_token_born_revoked()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER revgw_token_born_revoked ON tokens`);
    await db.query(`DROP FUNCTION revgw_token_born_revoked()`);
    await db.query(`DROP TABLE revocation_rules`);
    await db.query(`DROP FUNCTION revgw_rule_recorded()`);
    await db.query(`ALTER TABLE tenants DROP COLUMN access_token_jwks_uri`);
  }
}
