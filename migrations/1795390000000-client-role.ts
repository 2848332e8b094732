import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §11.1: a client is a TPP (revokes) or a resource server (introspects), never both.
 * Every client registered before this is a TPP. Reverting drops the roles: every resource server
 * becomes a TPP again (docs/operations.md).
 */
export class ClientRole1795390000000 implements MigrationInterface {
  name = 'ClientRole1795390000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE clients ADD COLUMN role text NOT NULL DEFAULT 'tpp'
        CONSTRAINT clients_role_check CHECK (role IN ('tpp', 'resource_server'))`);
    // A resource server proves who it is: never a public client, however the row was written.
    await db.query(`ALTER TABLE clients ADD CONSTRAINT clients_resource_server_check CHECK (role <> 'resource_server' OR auth_method <> 'none')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients DROP CONSTRAINT clients_resource_server_check`);
    await db.query(`ALTER TABLE clients DROP COLUMN role`);
  }
}
