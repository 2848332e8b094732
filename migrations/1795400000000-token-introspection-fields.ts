import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §9 and §11.2: what introspection reports of a registered token besides its client,
 * grant, consent and expiry: its scope, its confirmation (`cnf`, RFC 8705 §3.1 `x5t#S256` or
 * RFC 9449 §6.1 `jkt`) and when it was issued. All optional; a token registered before this has
 * none of them and reports its registration time as `iat`. Nullable columns without a default:
 * adding them rewrites nothing.
 */
export class TokenIntrospectionFields1795400000000 implements MigrationInterface {
  name = 'TokenIntrospectionFields1795400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tokens ADD COLUMN scope text, ADD COLUMN cnf jsonb, ADD COLUMN issued_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tokens DROP COLUMN issued_at, DROP COLUMN cnf, DROP COLUMN scope`);
  }
}
