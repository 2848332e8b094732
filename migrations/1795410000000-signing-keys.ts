import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §13: without SIGNING_KEY the gateway makes an ES256 key at its first start and keeps
 * it here, so that every replica signs with the same key. One row per `name` ('generated' today):
 * the replicas that start at once each insert theirs with ON CONFLICT DO NOTHING and all read back
 * the one that won. The private JWK is stored as it is (docs/operations.md): whoever reads this
 * table can sign as the gateway. Reverting drops the key; the next start makes a new one.
 */
export class SigningKeys1795410000000 implements MigrationInterface {
  name = 'SigningKeys1795410000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE signing_keys (
        name text PRIMARY KEY CONSTRAINT signing_keys_name_check CHECK (name = 'generated'),
        kid text NOT NULL CONSTRAINT signing_keys_kid_key UNIQUE,
        alg text NOT NULL CONSTRAINT signing_keys_alg_check CHECK (alg IN ('ES256', 'PS256', 'RS256', 'EdDSA')),
        private_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE signing_keys`);
  }
}
