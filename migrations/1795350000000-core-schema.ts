import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revocation core: tenants, clients, consents, tokens (SHA-256 hashes only) and the audit
 * trail. Every index is named after the lookup it serves. SQL kept to what PostgreSQL 15 and
 * PGlite (PostgreSQL 18) both accept.
 */
export class CoreSchema1795350000000 implements MigrationInterface {
  name = 'CoreSchema1795350000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tenants (
        name        text PRIMARY KEY CONSTRAINT tenants_name_check CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
        issuer      text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // Tenant resolution by the Issuer request header (docs/api.md §8).
    await db.query(`CREATE UNIQUE INDEX tenants_issuer_key ON tenants (issuer) WHERE issuer IS NOT NULL`);
    await db.query(`INSERT INTO tenants (name) VALUES ('default')`);

    await db.query(`
      CREATE TABLE clients (
        tenant       text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        client_id    text NOT NULL,
        name         text,
        auth_method  text NOT NULL CONSTRAINT clients_auth_method_check CHECK (auth_method IN
                       ('client_secret_basic', 'client_secret_post', 'private_key_jwt',
                        'tls_client_auth', 'self_signed_tls_client_auth', 'none')),
        secret_salt  bytea,
        secret_hash  bytea,
        jwks         jsonb,
        jwks_uri     text,
        tls_client_auth_subject_dn text,
        tls_client_auth_san_dns    text,
        tls_client_auth_san_uri    text,
        tls_client_auth_san_ip     text,
        tls_client_auth_san_email  text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT clients_pkey PRIMARY KEY (tenant, client_id)
      )`);

    await db.query(`
      CREATE TABLE consents (
        tenant      text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        consent_id  text NOT NULL,
        -- A consent is given to one TPP: its tokens can only be those of that client.
        client_id   text NOT NULL,
        revoked_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT consents_pkey PRIMARY KEY (tenant, consent_id)
      )`);

    await db.query(`
      CREATE TABLE tokens (
        tenant       text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
        token_hash   bytea NOT NULL CONSTRAINT tokens_hash_length_check CHECK (octet_length(token_hash) = 32),
        token_type   text NOT NULL CONSTRAINT tokens_type_check CHECK (token_type IN ('access_token', 'refresh_token')),
        client_id    text NOT NULL,
        grant_id     text NOT NULL,
        consent_id   text,
        subject      text,
        parent_hash  bytea,
        expires_at   timestamptz NOT NULL,
        revoked_at   timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now(),
        -- The hash leads: a 32-byte random value is the most selective key there is.
        CONSTRAINT tokens_pkey PRIMARY KEY (token_hash, tenant)
      )`);
    // RELATED_TOKENS from a refresh token: its access tokens.
    await db.query(`CREATE INDEX tokens_parent_idx ON tokens (tenant, parent_hash) WHERE parent_hash IS NOT NULL`);
    // RELATED_CONSENT, cdr arrangements and bulk revocation by consent.
    await db.query(`CREATE INDEX tokens_consent_idx ON tokens (tenant, consent_id) WHERE consent_id IS NOT NULL`);
    // Bulk revocation by subject (account closure) and by client (offboarding).
    await db.query(`CREATE INDEX tokens_subject_idx ON tokens (tenant, subject) WHERE subject IS NOT NULL`);
    await db.query(`CREATE INDEX tokens_client_idx ON tokens (tenant, client_id)`);

    await db.query(`
      CREATE TABLE revocation_events (
        id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT revocation_events_pkey PRIMARY KEY,
        at              timestamptz NOT NULL DEFAULT now(),
        interaction_id  uuid NOT NULL,
        tenant          text NOT NULL,
        client_id       text,
        profile         text NOT NULL,
        token_type      text,
        level           text,
        revoked         integer NOT NULL,
        outcome         text NOT NULL,
        psu_ip          text
      )`);
    // Admin queries: by interaction id, by client, newest first.
    await db.query(`CREATE INDEX revocation_events_interaction_idx ON revocation_events (interaction_id)`);
    await db.query(`CREATE INDEX revocation_events_client_idx ON revocation_events (client_id, id DESC)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE revocation_events`);
    await db.query(`DROP TABLE tokens`);
    await db.query(`DROP TABLE consents`);
    await db.query(`DROP TABLE clients`);
    await db.query(`DROP TABLE tenants`);
  }
}
